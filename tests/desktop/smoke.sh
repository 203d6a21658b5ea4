#!/usr/bin/env bash
# Desktop smoke test on the virtual wall (no real screens needed).
#
#   tests/desktop/smoke.sh            # test the built binary (target/debug/sunward-desktop)
#   tests/desktop/smoke.sh --build    # build it first (custom-protocol; the stand-in UI of
#                                     # tests/desktop/fixture-ui when ui/dist is not built)
#
# Starts `shared/tools/virtual-wall start 2`, runs the desktop app there and checks:
#   1. one wall window per monitor, exactly at the monitor's geometry, undecorated
#   2. the operator window
#   3. the screenshot of every monitor is not blank (ImageMagick standard deviation)
#   4. unplugging monitor 1 closes its wall window within 5 s (and re-plans the rest)
#   5. plugging it back opens it again within 5 s
# Ends with `desktop smoke: N passed, M failed`; exits non-zero on any failure.
#
# Environment:
#   SUNWARD_DESKTOP_BIN  binary to test [target/debug/sunward-desktop]
#   SMOKE_OUT            where the screenshots and the app log go [target/desktop-smoke]
#   SMOKE_MIN_STDDEV     least standard deviation (0..1) of a monitor's pixels [0.02]
#   SMOKE_START_TIMEOUT  seconds to wait for the windows at start [90]
#   WALL_DISPLAY         X display for the virtual wall [first free of :95..:119]
#   SMOKE_WM             a window manager to run on the wall, e.g. `openbox` (as on a real wall
#                        PC); then the wall windows must also be in _NET_WM_STATE_FULLSCREEN.
#                        Default: none (the virtual wall has no WM; fullscreen is then a no-op and
#                        the windows cover their monitors by position and size alone)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VW="${VIRTUAL_WALL:-$ROOT/../shared/tools/virtual-wall}"
BIN="${SUNWARD_DESKTOP_BIN:-$ROOT/target/debug/sunward-desktop}"
OUT="${SMOKE_OUT:-$ROOT/target/desktop-smoke}"
MIN_STDDEV="${SMOKE_MIN_STDDEV:-0.02}"
START_TIMEOUT="${SMOKE_START_TIMEOUT:-90}"
HOTPLUG_TIMEOUT=5
MONITORS=2

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
die() {
  echo "desktop smoke: $*" >&2
  echo "desktop smoke: $passed passed, $((failed + 1)) failed"
  exit 1
}

# --- build (optional) ------------------------------------------------------------------------
if [ "${1:-}" = "--build" ]; then
  if [ -f "$ROOT/ui/dist/index.html" ]; then
    (cd "$ROOT" && cargo build -p sunward-desktop --features custom-protocol) || die "build failed"
  else
    echo "ui/dist is not built: building against the stand-in UI tests/desktop/fixture-ui"
    (cd "$ROOT" && TAURI_CONFIG="{\"build\":{\"frontendDist\":\"$ROOT/tests/desktop/fixture-ui\"}}" \
      cargo build -p sunward-desktop --features custom-protocol) || die "build failed"
  fi
fi
[ -x "$BIN" ] || die "no desktop binary at $BIN; build it: cargo build -p sunward-desktop --features custom-protocol (or run with --build)"
[ -x "$VW" ] || die "no virtual-wall tool at $VW"

# --- tools -----------------------------------------------------------------------------------
need=()
command -v xdotool >/dev/null || need+=(xdotool)
command -v xwininfo >/dev/null || need+=(x11-utils)
command -v xprop >/dev/null || need+=(x11-utils)
command -v xrandr >/dev/null || need+=(x11-xserver-utils)
command -v Xorg >/dev/null || need+=(xserver-xorg-core xserver-xorg-video-dummy)
command -v dbus-run-session >/dev/null || need+=(dbus)
[ -x /usr/bin/convert ] || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; } ||
      die "cannot install ${need[*]}"
  else
    die "missing packages: ${need[*]} (apt-get install them as root)"
  fi
fi
CONVERT=/usr/bin/convert

# --- virtual wall ----------------------------------------------------------------------------
if [ -z "${WALL_DISPLAY:-}" ]; then
  for n in $(seq 95 119); do
    if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then WALL_DISPLAY=":$n"; break; fi
  done
  [ -n "${WALL_DISPLAY:-}" ] || die "no free X display in :95..:119"
fi
export WALL_DISPLAY
mkdir -p "$OUT"
TMP="$(mktemp -d -t sunward-desktop-smoke.XXXXXX)"
APP_PID=""
WM_PID=""
cleanup() {
  [ -n "$WM_PID" ] && kill -TERM "$WM_PID" 2>/dev/null
  if [ -n "$APP_PID" ]; then
    kill -TERM -- "-$APP_PID" 2>/dev/null
    for _ in $(seq 20); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$APP_PID" 2>/dev/null
  fi
  "$VW" stop >/dev/null 2>&1
  # A desktop portal, should one start after all, leaves a FUSE mount under the runtime dir.
  local m
  for m in $(awk -v t="$TMP" 'index($2, t) == 1 { print $2 }' /proc/mounts 2>/dev/null); do
    fusermount -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_out="$("$VW" start "$MONITORS" 2>"$TMP/vw.err")" || { cat "$TMP/vw.err" >&2; die "virtual-wall start failed"; }
eval "$start_out"
[ "${DISPLAY:-}" = "$WALL_DISPLAY" ] || die "virtual-wall printed no DISPLAY ($start_out)"
echo "virtual wall on $DISPLAY with $MONITORS monitors"
if [ -n "${SMOKE_WM:-}" ]; then
  command -v "$SMOKE_WM" >/dev/null || die "SMOKE_WM=$SMOKE_WM is not installed (apt-get install $SMOKE_WM)"
  "$SMOKE_WM" >"$TMP/wm.log" 2>&1 &
  WM_PID=$!
  for _ in $(seq 50); do xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id' && break; sleep 0.1; done
  echo "window manager: $SMOKE_WM (pid $WM_PID)"
fi

# Monitors as "WxH+X+Y", from xrandr (the X server's own view, not the app's).
monitor_geoms() {
  xrandr --listmonitors | awk 'NR > 1 { split($3, a, /[\/x+]/); printf "%sx%s+%s+%s\n", a[1], a[3], a[5], a[6] }'
}

# Visible wall windows as "WxH+X+Y TITLE", sorted by x.
wall_windows() {
  local id
  for id in $(xdotool search --onlyvisible --name '^Sunward wall ' 2>/dev/null); do
    xwininfo -id "$id" 2>/dev/null | awk -v id="$id" '
      /Absolute upper-left X/ { x = $NF } /Absolute upper-left Y/ { y = $NF }
      /^ *Width:/ { w = $NF } /^ *Height:/ { h = $NF }
      /xwininfo: Window id/ { t = $0; sub(/^[^"]*"/, "", t); sub(/"$/, "", t) }
      END { printf "%sx%s+%s+%s %s\n", w, h, x, y, t }'
  done | sort -t+ -k2 -n
}
count_walls() { wall_windows | grep -c . ; }

# Waits until `count_walls` equals $1, at most $2 seconds; prints the seconds it took.
wait_walls() {
  local want=$1 limit=$2 start now
  start=$(date +%s.%N)
  while :; do
    [ "$(count_walls)" = "$want" ] && break
    now=$(date +%s.%N)
    if awk -v s="$start" -v n="$now" -v l="$limit" 'BEGIN { exit !(n - s > l) }'; then
      awk -v s="$start" -v n="$now" 'BEGIN { printf "%.1f", n - s }'
      return 1
    fi
    sleep 0.1
  done
  awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'
}

# Every monitor has a wall window at exactly its geometry. $1 = what to call the check.
check_walls_match_monitors() {
  local geoms wins missing=""
  geoms="$(monitor_geoms)"
  wins="$(wall_windows)"
  for g in $geoms; do
    grep -q "^$g " <<<"$wins" || missing="$missing $g"
  done
  if [ -z "$missing" ] && [ "$(grep -c . <<<"$wins")" = "$(grep -c . <<<"$geoms")" ]; then
    pass "$1: $(grep -c . <<<"$wins") wall windows at the monitors' geometry ($(tr '\n' ' ' <<<"$geoms"))"
  else
    fail "$1: monitors [$(tr '\n' ' ' <<<"$geoms")] but wall windows [$(tr '\n' ';' <<<"$wins")]; no window at:$missing"
  fi
}

# --- run the app -----------------------------------------------------------------------------
export XDG_DATA_HOME="$TMP/data" XDG_CONFIG_HOME="$TMP/config" XDG_CACHE_HOME="$TMP/cache" \
  XDG_RUNTIME_DIR="$TMP/runtime"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# A private session bus that activates no services: no desktop portal, no accessibility bus,
# nothing left running (or mounted) after the test.
cat >"$TMP/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$TMP/runtime</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
LOG="$OUT/app.log"
setsid dbus-run-session --config-file="$TMP/session.conf" -- env NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1 \
  RUST_LOG="${RUST_LOG:-info}" "$BIN" --db "$TMP/data/sunward.db" --demo on >"$LOG" 2>&1 &
APP_PID=$!
echo "app pid $APP_PID, log $LOG"

t="$(wait_walls "$MONITORS" "$START_TIMEOUT")" ||
  { tail -30 "$LOG" >&2; kill -0 "$APP_PID" 2>/dev/null || echo "(the app exited)" >&2
    die "no $MONITORS wall windows after ${START_TIMEOUT}s"; }
echo "wall windows up after ${t}s"
sleep 4 # let the pages render

# 1. wall windows = monitors
check_walls_match_monitors "start"
undecorated=1
for id in $(xdotool search --onlyvisible --name '^Sunward wall ' 2>/dev/null); do
  # An undecorated GTK window asks the WM for no decorations (_MOTIF_WM_HINTS decorations = 0).
  xprop -id "$id" _MOTIF_WM_HINTS 2>/dev/null | grep -q '= 0x2, 0x0, 0x0' || undecorated=0
done
if [ "$undecorated" = 1 ]; then pass "wall windows ask for no decorations"; else fail "a wall window asks for decorations"; fi
if [ -n "${SMOKE_WM:-}" ]; then
  notfull=""
  for id in $(xdotool search --onlyvisible --name '^Sunward wall ' 2>/dev/null); do
    xprop -id "$id" _NET_WM_STATE 2>/dev/null | grep -q _NET_WM_STATE_FULLSCREEN || notfull="$notfull $id"
  done
  if [ -z "$notfull" ]; then pass "wall windows are fullscreen ($SMOKE_WM)"; else fail "not fullscreen under $SMOKE_WM:$notfull"; fi
fi

# 2. operator window
if xdotool search --onlyvisible --name '^Sunward$' >/dev/null 2>&1; then
  pass "operator window is open"
else
  fail "no operator window (title 'Sunward')"
fi

# 3. screenshot: not blank, on every monitor
SHOT="$OUT/wall-2.png"
if "$VW" shot "$SHOT" 2>"$TMP/shot.err"; then
  blank=""
  report=""
  i=0
  for g in $(monitor_geoms); do
    sd="$("$CONVERT" "$SHOT" -crop "$g" +repage -format '%[fx:standard_deviation]' info: 2>/dev/null)"
    report="$report monitor$i=${sd:-?}"
    awk -v s="${sd:-0}" -v m="$MIN_STDDEV" 'BEGIN { exit !(s > m) }' || blank="$blank monitor$i"
    i=$((i + 1))
  done
  if [ -z "$blank" ]; then
    pass "screenshot $SHOT is not blank (std dev:$report; threshold $MIN_STDDEV)"
  else
    fail "screenshot $SHOT is blank on$blank (std dev:$report; threshold $MIN_STDDEV)"
  fi
else
  fail "virtual-wall shot failed: $(cat "$TMP/shot.err")"
fi

# 4. unplug monitor 1: its wall window goes within 5 s
"$VW" unplug 1
if t="$(wait_walls $((MONITORS - 1)) "$HOTPLUG_TIMEOUT")"; then
  sleep 1.5 # the remaining window is re-planned (it takes over the unplugged screen's views)
  check_walls_match_monitors "unplug 1 (followed in ${t}s)"
else
  fail "unplug 1: still $(count_walls) wall windows after ${t}s (want $((MONITORS - 1)))"
fi
"$VW" shot "$OUT/wall-1.png" 2>/dev/null

# 5. plug it back: the window comes back within 5 s
"$VW" plug 1
if t="$(wait_walls "$MONITORS" "$HOTPLUG_TIMEOUT")"; then
  sleep 1.5
  check_walls_match_monitors "plug 1 (followed in ${t}s)"
else
  fail "plug 1: $(count_walls) wall windows after ${t}s (want $MONITORS)"
fi
sleep 3
"$VW" shot "$OUT/wall-2-replugged.png" 2>/dev/null

if ! kill -0 "$APP_PID" 2>/dev/null; then
  fail "the app is no longer running"
  tail -30 "$LOG" >&2
fi
if [ "$failed" -gt 0 ]; then
  echo "--- last lines of $LOG" >&2
  tail -30 "$LOG" >&2
fi
echo "screenshots: $OUT/wall-2.png $OUT/wall-1.png $OUT/wall-2-replugged.png"
echo "desktop smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
