#!/usr/bin/env bash
# The command-center wall on the virtual wall (issue 3): three monitors, three views.
#
#   tests/desktop/wall.sh      # tests target/debug/sunward-desktop (build it with the real UI:
#                              # npm --prefix ui run build && cargo build -p sunward-desktop --features custom-protocol)
#
# Starts `shared/tools/virtual-wall start 3`, runs the desktop app with
# tests/desktop/three-views.toml (volume / topics / stream on DUMMY0..2), `--demo off` (the
# demo's alerts would take the wall over) and `--serve` on a free port, posts an hour of
# mentions over HTTP, and checks:
#   1. three wall windows at the monitors' geometry; the screenshot is not blank anywhere and
#      the three monitors differ (three different views)
#   2. `unplug 2`: two windows within 5 s, still at the monitors' geometry
#   3. `plug 2`: three windows within 5 s, the original layout back (DUMMY2 shows the stream again)
#   4. a takeover drill (`wall.drill` over HTTP) puts the pulsing red border on all three monitors
#   5. `wall.ack`: the border is gone on all three (rotation resumed)
# Screenshots and the log go to target/desktop-wall/. Ends with `desktop wall: N passed, M failed`.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VW="${VIRTUAL_WALL:-$ROOT/../shared/tools/virtual-wall}"
BIN="${SUNWARD_DESKTOP_BIN:-$ROOT/target/debug/sunward-desktop}"
OUT="${WALL_OUT:-$ROOT/target/desktop-wall}"
PROFILE="$ROOT/tests/desktop/three-views.toml"
START_TIMEOUT="${WALL_START_TIMEOUT:-120}"
CONVERT=/usr/bin/convert

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
die() {
  echo "desktop wall: $*" >&2
  echo "desktop wall: $passed passed, $((failed + 1)) failed"
  exit 1
}

[ -x "$BIN" ] || die "no desktop binary at $BIN"
[ -x "$VW" ] || die "no virtual-wall tool at $VW"
for t in xdotool xwininfo xrandr dbus-run-session curl; do command -v "$t" >/dev/null || die "missing $t"; done
[ -x "$CONVERT" ] || die "missing ImageMagick (convert)"

if [ -z "${WALL_DISPLAY:-}" ]; then
  for n in $(seq 95 119); do
    if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then WALL_DISPLAY=":$n"; break; fi
  done
  [ -n "${WALL_DISPLAY:-}" ] || die "no free X display in :95..:119"
fi
export WALL_DISPLAY
mkdir -p "$OUT"
TMP="$(mktemp -d -t sunward-desktop-wall.XXXXXX)"
APP_PID=""
cleanup() {
  if [ -n "$APP_PID" ]; then
    kill -TERM -- "-$APP_PID" 2>/dev/null
    for _ in $(seq 20); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$APP_PID" 2>/dev/null
  fi
  "$VW" stop >/dev/null 2>&1
  local m
  for m in $(awk -v t="$TMP" 'index($2, t) == 1 { print $2 }' /proc/mounts 2>/dev/null); do
    fusermount -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_out="$("$VW" start 3 2>"$TMP/vw.err")" || { cat "$TMP/vw.err" >&2; die "virtual-wall start failed"; }
eval "$start_out"
[ "${DISPLAY:-}" = "$WALL_DISPLAY" ] || die "virtual-wall printed no DISPLAY ($start_out)"
echo "virtual wall on $DISPLAY with 3 monitors: $(xrandr --listmonitors | awk 'NR > 1 { printf "%s ", $NF }')"

monitor_geoms() {
  xrandr --listmonitors | awk 'NR > 1 { split($3, a, /[\/x+]/); printf "%sx%s+%s+%s\n", a[1], a[3], a[5], a[6] }'
}
wall_windows() {
  local id
  for id in $(xdotool search --onlyvisible --name '^Sunward wall ' 2>/dev/null); do
    xwininfo -id "$id" 2>/dev/null | awk '
      /Absolute upper-left X/ { x = $NF } /Absolute upper-left Y/ { y = $NF }
      /^ *Width:/ { w = $NF } /^ *Height:/ { h = $NF }
      /xwininfo: Window id/ { t = $0; sub(/^[^"]*"/, "", t); sub(/"$/, "", t) }
      END { printf "%sx%s+%s+%s %s\n", w, h, x, y, t }'
  done | sort -t+ -k2 -n
}
count_walls() { wall_windows | grep -c . ; }
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
check_geometry() {
  local geoms wins missing=""
  geoms="$(monitor_geoms)"
  wins="$(wall_windows)"
  for g in $geoms; do grep -q "^$g " <<<"$wins" || missing="$missing $g"; done
  if [ -z "$missing" ] && [ "$(grep -c . <<<"$wins")" = "$(grep -c . <<<"$geoms")" ]; then
    pass "$1: $(grep -c . <<<"$wins") wall windows exactly on the monitors"
  else
    fail "$1: monitors [$(tr '\n' ' ' <<<"$geoms")] windows [$(tr '\n' ';' <<<"$wins")]"
  fi
}
# Mean colour of a monitor's left border strip (x+2..x+10, middle third): "R G B" 0..255.
border_rgb() {
  local shot=$1 g=$2 w h x y
  IFS='x+' read -r w h x y <<<"$g"
  "$CONVERT" "$shot" -crop "8x$((h / 3))+$((x + 2))+$((y + h / 3))" +repage -scale 1x1\! -format '%[fx:int(255*r)] %[fx:int(255*g)] %[fx:int(255*b)]' info: 2>/dev/null
}
# The border is #ff5468 pulsing down to 25 % opacity over the dark background: (74,29,38) at
# its faintest.
is_red() { awk -v c="$1" 'BEGIN { split(c, a, " "); exit !(a[1] > 55 && a[1] > 2 * a[2] && a[1] > 1.5 * a[3]) }'; }
# All monitors red in at least one of 4 screenshots (the border pulses).
border_on_all() {
  local want=$1 i g rgb ok_all=""
  for i in 1 2 3 4; do
    "$VW" shot "$TMP/pulse.png" 2>/dev/null || continue
    ok_all=1
    for g in $(monitor_geoms); do
      rgb="$(border_rgb "$TMP/pulse.png" "$g")"
      if [ "$want" = on ]; then is_red "$rgb" || ok_all=""; else is_red "$rgb" && ok_all=""; fi
    done
    [ -n "$ok_all" ] && { cp "$TMP/pulse.png" "$OUT/takeover-$want.png"; return 0; }
    sleep 0.3
  done
  cp "$TMP/pulse.png" "$OUT/takeover-$want.png" 2>/dev/null
  return 1
}

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
TOKEN="wall-test-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export XDG_DATA_HOME="$TMP/data" XDG_CONFIG_HOME="$TMP/config" XDG_CACHE_HOME="$TMP/cache" XDG_RUNTIME_DIR="$TMP/runtime"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
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
  SUNWARD_TOKEN="$TOKEN" RUST_LOG="${RUST_LOG:-info}" "$BIN" --profile "$PROFILE" --db "$TMP/data/sunward.db" \
  --demo off --no-operator --serve "127.0.0.1:$PORT" >"$LOG" 2>&1 &
APP_PID=$!
echo "app pid $APP_PID, API on 127.0.0.1:$PORT, log $LOG"
rpc() { curl -s -m 5 -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2" "http://127.0.0.1:$PORT/api/v1/rpc/$1"; }

t="$(wait_walls 3 "$START_TIMEOUT")" || { tail -30 "$LOG" >&2; die "no 3 wall windows after ${START_TIMEOUT}s"; }
echo "wall windows up after ${t}s"
# An hour of mentions with topics, so every view has something to show.
python3 - "$TMP/posts.ndjson" <<'PY'
import json, sys, time, random
random.seed(7)
now = time.time()
topics = ["delays", "baggage", "refunds", "wifi", "crew"]
words = ["late again", "thanks for the quick help", "my bag is missing", "great crew today", "refund still pending"]
with open(sys.argv[1], "w") as f:
    for i in range(400):
        t = now - random.random() * 3300
        f.write(json.dumps({"source": "walltest", "id": f"w{i}", "channel": random.choice(["x", "reddit", "mastodon"]),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), "text": random.choice(words),
            "topics": [random.choice(topics)], "author": {"handle": f"user{i % 37}", "followers": random.randint(10, 90000)}}) + "\n")
PY
curl -s -m 20 -X POST -H "Authorization: Bearer $TOKEN" --data-binary @"$TMP/posts.ndjson" "http://127.0.0.1:$PORT/api/v1/mentions" >"$TMP/ingest.json" ||
  fail "posting mentions failed"
echo "ingest: $(cat "$TMP/ingest.json")"
sleep 8 # pages render and re-read

# 1. three views on three monitors
check_geometry "start"
"$VW" shot "$OUT/wall-3.png"
sds=""; crops=()
i=0
for g in $(monitor_geoms); do
  "$CONVERT" "$OUT/wall-3.png" -crop "$g" +repage "$TMP/m$i.png"
  sds="$sds $("$CONVERT" "$TMP/m$i.png" -format '%[fx:standard_deviation]' info:)"
  crops+=("$TMP/m$i.png")
  i=$((i + 1))
done
if awk -v s="$sds" 'BEGIN { n = split(s, a, " "); for (i = 1; i <= n; i++) if (a[i] < 0.02) exit 1 }'; then
  pass "no monitor is blank (std dev:$sds)"
else
  fail "a monitor is blank (std dev:$sds)"
fi
d01="$("$CONVERT" "${crops[0]}" "${crops[1]}" -compose difference -composite -format '%[fx:mean]' info:)"
d12="$("$CONVERT" "${crops[1]}" "${crops[2]}" -compose difference -composite -format '%[fx:mean]' info:)"
if awk -v a="$d01" -v b="$d12" 'BEGIN { exit !(a > 0.01 && b > 0.01) }'; then
  pass "the three monitors show different pictures (mean difference $d01, $d12)"
else
  fail "monitors look alike (mean difference $d01, $d12)"
fi
plain="$(sed 's/\x1b\[[0-9;]*m//g' "$LOG")"
grep -q 'views=\["volume"\]' <<<"$plain" && grep -q 'views=\["topics"\]' <<<"$plain" && grep -q 'views=\["stream"\]' <<<"$plain" &&
  pass "the app opened volume, topics and stream windows" || fail "the log does not show the three views opened"

# 2. unplug 2
"$VW" unplug 2
if t="$(wait_walls 2 5)"; then
  sleep 1.5
  check_geometry "unplug 2 (followed in ${t}s)"
else
  fail "unplug 2: $(count_walls) wall windows after ${t}s"
fi
"$VW" shot "$OUT/wall-2.png" 2>/dev/null

# 3. plug 2
"$VW" plug 2
if t="$(wait_walls 3 5)"; then
  sleep 1.5
  check_geometry "plug 2 (followed in ${t}s)"
  wall_windows | tail -1 | grep -q 'Live stream' && pass "DUMMY2 shows the live stream again" || fail "DUMMY2: $(wall_windows | tail -1)"
else
  fail "plug 2: $(count_walls) wall windows after ${t}s"
fi
sleep 6
"$VW" shot "$OUT/wall-3-replugged.png" 2>/dev/null

# 4. takeover on all three
drill="$(rpc wall.drill '{"severity":"crisis","title":"Virtual wall takeover drill"}')"
id="$(sed -n 's/.*"id":\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$drill")"
[ -n "$id" ] || fail "wall.drill answered: $drill"
sleep 1.5
if border_on_all on; then pass "takeover: the red border is on all three monitors ($OUT/takeover-on.png)"; else fail "takeover: not all monitors show the border ($OUT/takeover-on.png)"; fi

# 5. ack: rotation resumes
ack="$(rpc wall.ack "{\"id\":$id}")"
sleep 1.5
if border_on_all off; then pass "after wall.ack the border is gone everywhere ($ack)"; else fail "after ack a monitor still shows the border ($OUT/takeover-off.png)"; fi

kill -0 "$APP_PID" 2>/dev/null || { fail "the app is no longer running"; tail -30 "$LOG" >&2; }
[ "$failed" -gt 0 ] && { echo "--- last lines of $LOG" >&2; tail -30 "$LOG" >&2; }
echo "screenshots: $OUT/"
echo "desktop wall: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
