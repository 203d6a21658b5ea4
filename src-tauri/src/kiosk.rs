//! Kiosk behaviour of a wall PC: no screensaver and no screen blanking while the wall runs,
//! and an optional start at login (an XDG autostart entry). Hiding the cursor after idle is the
//! UI's job (`ui/src/views/Wall.svelte`); fullscreen and re-creating dead windows are the
//! window module's.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Name of the autostart entry.
pub const AUTOSTART_FILE: &str = "sunward-desktop.desktop";

/// Where the XDG autostart entry lives: `$XDG_CONFIG_HOME/autostart/` (`~/.config/autostart/`).
pub fn autostart_path() -> anyhow::Result<PathBuf> {
    let dir = dirs::config_dir().ok_or_else(|| {
        anyhow::anyhow!(
            "no user config directory (set XDG_CONFIG_HOME or HOME) for the autostart entry"
        )
    })?;
    Ok(dir.join("autostart").join(AUTOSTART_FILE))
}

/// Quotes one argument for a desktop entry's `Exec` key (Desktop Entry Specification,
/// "The Exec key": reserved characters need double quotes, `"`, `` ` ``, `$` and `\` a
/// backslash; a literal `%` is `%%`).
fn exec_quote(arg: &str) -> String {
    let needs = arg.is_empty()
        || arg
            .chars()
            .any(|c| c.is_whitespace() || "\"'\\><~|&;$*?#()`".contains(c));
    let escaped = arg.replace('%', "%%");
    if !needs {
        return escaped;
    }
    let mut out = String::from("\"");
    for c in escaped.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The autostart entry that starts `exe` with `args`.
pub fn desktop_entry(exe: &str, args: &[String]) -> String {
    let mut exec = exec_quote(exe);
    for a in args {
        exec.push(' ');
        exec.push_str(&exec_quote(a));
    }
    format!(
        "[Desktop Entry]\nType=Application\nName=Sunward wall\nComment=Sunward command center: operator window and wall screens\nExec={exec}\nTerminal=false\nX-GNOME-Autostart-enabled=true\nX-GNOME-Autostart-Delay=5\n"
    )
}

/// `on`: writes the autostart entry with this process's other arguments; `off`: removes it.
pub fn autostart(on: bool) -> anyhow::Result<String> {
    let path = autostart_path()?;
    if !on {
        return match std::fs::remove_file(&path) {
            Ok(()) => Ok(format!(
                "start at login is off (removed {})",
                path.display()
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(format!(
                "start at login was already off ({} does not exist)",
                path.display()
            )),
            Err(e) => Err(anyhow::anyhow!("cannot remove {}: {e}", path.display())),
        };
    }
    let exe = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot find this program's path: {e}"))?;
    // Keep every option but --autostart itself.
    let mut args = Vec::new();
    let mut skip = false;
    for a in std::env::args().skip(1) {
        if skip {
            skip = false;
            continue;
        }
        if a == "--autostart" {
            skip = true;
            continue;
        }
        if a.starts_with("--autostart=") {
            continue;
        }
        args.push(a);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&path, desktop_entry(&exe.display().to_string(), &args))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(format!(
        "start at login is on: {} starts `{}{}{}` at the next login",
        path.display(),
        exe.display(),
        if args.is_empty() { "" } else { " " },
        args.join(" ")
    ))
}

/// Keeps the screen on while it lives: the freedesktop ScreenSaver inhibitor on the session
/// bus (GNOME, KDE, Xfce...), and on X11 `xset s off -dpms` plus a periodic `xset s reset`
/// (bare X servers and window managers without a screensaver service). Dropping it ends the
/// inhibition (the bus connection closes; X settings are restored on the next login anyway).
pub struct Inhibitor {
    _bus: Option<dbus::blocking::Connection>,
}

pub fn inhibit_screensaver() -> Inhibitor {
    let bus = dbus_inhibit();
    if std::env::var_os("DISPLAY").is_some() {
        match Command::new("xset")
            .args(["s", "off", "s", "noblank", "-dpms"])
            .status()
        {
            Ok(s) if s.success() => tracing::info!("kiosk: X screensaver and DPMS off (xset)"),
            Ok(s) => tracing::warn!("kiosk: `xset s off -dpms` failed ({s})"),
            Err(e) => tracing::info!(
                "kiosk: no xset ({e}); install x11-xserver-utils to keep X screens from blanking"
            ),
        }
        std::thread::Builder::new()
            .name("sunward-kiosk".into())
            .spawn(|| loop {
                std::thread::sleep(Duration::from_secs(50));
                let _ = Command::new("xset").args(["s", "reset"]).status();
            })
            .ok();
    }
    Inhibitor { _bus: bus }
}

fn dbus_inhibit() -> Option<dbus::blocking::Connection> {
    let conn = match dbus::blocking::Connection::new_session() {
        Ok(c) => c,
        Err(e) => {
            tracing::info!("kiosk: no session bus for the screensaver inhibitor: {e}");
            return None;
        }
    };
    let proxy = conn.with_proxy(
        "org.freedesktop.ScreenSaver",
        "/org/freedesktop/ScreenSaver",
        Duration::from_secs(2),
    );
    let r: Result<(u32,), dbus::Error> = proxy.method_call(
        "org.freedesktop.ScreenSaver",
        "Inhibit",
        ("sunward-desktop", "the command-center wall is running"),
    );
    match r {
        Ok((cookie,)) => {
            tracing::info!(
                cookie,
                "kiosk: screensaver inhibited (org.freedesktop.ScreenSaver)"
            );
            Some(conn)
        }
        Err(e) => {
            tracing::info!(
                "kiosk: no org.freedesktop.ScreenSaver service ({}); relying on xset",
                e.message().unwrap_or("no reply")
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desktop_entries_quote_their_arguments() {
        let e = desktop_entry(
            "/opt/sun ward/sunward-desktop",
            &[
                "--profile".into(),
                "/etc/walls/day.toml".into(),
                "--db".into(),
                "/d/100%.db".into(),
            ],
        );
        assert!(e.starts_with("[Desktop Entry]\nType=Application\n"), "{e}");
        assert!(
            e.contains("Exec=\"/opt/sun ward/sunward-desktop\" --profile /etc/walls/day.toml --db /d/100%%.db\n"),
            "{e}"
        );
        assert_eq!(exec_quote("a\"b$c"), "\"a\\\"b\\$c\"");
    }
}
