//! Sunward desktop shell. Thin on purpose: it starts the core in-process, exposes the core's one
//! dispatcher as the Tauri command `dispatch`, forwards the core's event bus to every window as
//! the Tauri event `sunward://event`, and applies the wall plan computed by `sunward::wall::plan`
//! (one fullscreen window per monitor, followed as monitors come and go).

use std::path::PathBuf;

use clap::Parser;
use serde_json::Value;
use sunward::api::{App as Core, AppOptions};
use sunward::events::Event;
use tauri::{Emitter, Manager, Runtime};
use tokio::sync::broadcast::{self, error::RecvError};

pub mod kiosk;
pub mod windows;

/// Name of the Tauri event that carries the core's bus events (payload = the event's JSON).
pub const EVENT: &str = "sunward://event";

/// Command line; every option also has an environment variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "sunward-desktop",
    version,
    about = "Sunward desktop: operator window and wall screens"
)]
pub struct Options {
    /// SQLite database file, or a postgres:// URL when several sites share one database
    /// [default: <user data dir>/sunward/sunward.db].
    #[arg(long, env = "SUNWARD_DB", value_name = "PATH|URL")]
    pub db: Option<String>,
    /// Demo scenario: `on`, `off`, or `auto` (= on while the database holds no mentions, so the
    /// wall is never empty). `--demo` alone means `on`.
    #[arg(long, env = "SUNWARD_DEMO", value_name = "on|off|auto", default_value = "auto",
          num_args = 0..=1, default_missing_value = "on", value_parser = parse_demo)]
    pub demo: Demo,
    /// Core config file.
    #[arg(long, env = "SUNWARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Wall profile (TOML) [default: the built-in `assets/walls/default.toml`]. A broken
    /// profile does not stop the wall: it shows the safe default layout and logs what to fix.
    #[arg(
        long = "profile",
        visible_alias = "wall-profile",
        env = "SUNWARD_WALL_PROFILE"
    )]
    pub wall_profile: Option<PathBuf>,
    /// Open no wall windows (operator window only).
    #[arg(long, env = "SUNWARD_NO_WALL")]
    pub no_wall: bool,
    /// Open no operator window (wall PCs).
    #[arg(long, env = "SUNWARD_NO_OPERATOR")]
    pub no_operator: bool,
    /// Kiosk behaviour of the wall (no screensaver or blanking while it runs). `--no-kiosk`
    /// leaves the screensaver alone (a developer's desktop).
    #[arg(long = "no-kiosk", env = "SUNWARD_NO_KIOSK")]
    pub no_kiosk: bool,
    /// Also serve the HTTP API and remote walls (`/wall/<profile>/<screen>`) from this process,
    /// e.g. `127.0.0.1:8787`; the admin token is `SUNWARD_TOKEN` (required with this option).
    #[arg(long, value_name = "ADDR", env = "SUNWARD_SERVE")]
    pub serve: Option<std::net::SocketAddr>,
    /// Start at login: `on` writes an XDG autostart entry that starts this app with the other
    /// options given here, `off` removes it. Then exits.
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    pub autostart: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demo {
    On,
    Off,
    Auto,
}

fn parse_demo(s: &str) -> Result<Demo, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "1" | "true" | "yes" => Ok(Demo::On),
        "off" | "0" | "false" | "no" => Ok(Demo::Off),
        "auto" | "" => Ok(Demo::Auto),
        other => Err(format!("`{other}`: use on, off or auto")),
    }
}

/// Resolves the core's start options: the database path (the core's default unless given;
/// parent directory created) and the demo mode. `auto` opens the store once to count mentions:
/// demo on when there are none, so the wall is never empty.
pub async fn core_options(opts: &Options) -> anyhow::Result<AppOptions> {
    let db = match &opts.db {
        Some(d) => sunward::store::DbTarget::parse(d),
        None => sunward::config::default_db_path().into(),
    };
    if let Some(dir) = db
        .sqlite_path()
        .and_then(|p| p.parent())
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the data directory {}: {e}; pass --db FILE",
                dir.display()
            )
        })?;
    }
    let demo = match opts.demo {
        Demo::On => true,
        Demo::Off => false,
        Demo::Auto => {
            let store = sunward::store::Store::open(&db)
                .await
                .map_err(|e| anyhow::anyhow!("cannot open the database {db}: {e}"))?;
            store.mention_count().await? == 0
        }
    };
    Ok(AppOptions {
        db: Some(db),
        demo,
        config: opts.config.clone(),
        wall_profile: opts.wall_profile.clone(),
        ..Default::default()
    })
}

/// The core, shared with commands as Tauri state.
pub struct CoreState(pub Core);

/// The one IPC command: `invoke("dispatch", {command, args})` -> the core's JSON result, or the
/// error message as a string. (Not `pub`: Tauri's glue code forbids public commands in `lib.rs`.)
#[tauri::command]
async fn dispatch(
    core: tauri::State<'_, CoreState>,
    command: String,
    args: Option<Value>,
) -> Result<Value, String> {
    let args = match args {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(v) => v,
    };
    core.0
        .dispatch(&command, args)
        .await
        .map_err(|e| e.to_string())
}

/// Forwards bus events to all windows until the bus closes. A lagging receiver (events were
/// dropped) turns into one `{"type":"resync"}` so the windows re-read their state.
pub fn forward_events<R: Runtime>(handle: tauri::AppHandle<R>, mut rx: broadcast::Receiver<Event>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match rx.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "event forwarding lagged; windows resync");
                    Event::Resync {}
                }
                Err(RecvError::Closed) => break,
            };
            if let Err(e) = handle.emit(EVENT, &event) {
                tracing::warn!("cannot emit {} to windows: {e}", event.name());
            }
        }
    });
}

/// Registers the command and state on a builder (shared by the real app and the mock-runtime tests).
pub fn builder<R: Runtime>(builder: tauri::Builder<R>, core: Core) -> tauri::Builder<R> {
    builder
        .manage(CoreState(core))
        .invoke_handler(tauri::generate_handler![dispatch])
}

/// Entry point of the binary.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tao=warn,wry=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = try_run(Options::parse()) {
        eprintln!("sunward-desktop: {e:#}");
        std::process::exit(1);
    }
}

fn try_run(opts: Options) -> anyhow::Result<()> {
    if let Some(what) = &opts.autostart {
        let msg = kiosk::autostart(what == "on")?;
        println!("{msg}");
        return Ok(());
    }
    let core = tauri::async_runtime::block_on(async {
        let core_opts = core_options(&opts).await?;
        tracing::info!(
            db = %core_opts.db.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            demo = core_opts.demo,
            profile = %core_opts.wall_profile.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "built-in default".into()),
            "starting the core"
        );
        Core::start(core_opts).await
    })?;
    let _inhibit = (!opts.no_kiosk && !opts.no_wall).then(kiosk::inhibit_screensaver);
    if let Some(addr) = opts.serve {
        let token = std::env::var("SUNWARD_TOKEN")
            .ok()
            .filter(|t| t.len() >= 16)
            .ok_or_else(|| anyhow::anyhow!("--serve needs SUNWARD_TOKEN (at least 16 characters), the admin token of the HTTP API"))?;
        let http_core = core.clone();
        tauri::async_runtime::spawn(async move {
            if let Err(e) = sunward::http::serve(http_core, addr, &token).await {
                tracing::error!("HTTP server stopped: {e:#}");
            }
        });
    }
    let wall_core = core.clone();
    let rx = core.subscribe();
    let app = builder(tauri::Builder::default(), core)
        .setup(move |app| {
            forward_events(app.handle().clone(), rx);
            if !opts.no_operator {
                windows::open_operator(app.handle())?;
            }
            if !opts.no_wall {
                windows::follow_monitors(app.handle().clone(), wall_core);
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the operator window quits; wall windows come and go with the monitors.
            if window.label() == windows::OPERATOR && matches!(event, tauri::WindowEvent::Destroyed)
            {
                window.app_handle().exit(0);
            }
        })
        .build(tauri::generate_context!())?;
    app.run(|_handle, event| {
        // The last window closing (e.g. every monitor unplugged) must not end a wall PC's app;
        // an explicit exit (operator closed, `exit(code)`) carries a code and goes through.
        if let tauri::RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
    Ok(())
}

#[cfg(all(test, feature = "test"))]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::{Listener, WebviewWindowBuilder};

    use super::*;

    /// A fresh directory, removed when the returned guard drops.
    struct TempDir(std::path::PathBuf);
    impl std::ops::Deref for TempDir {
        type Target = std::path::Path;
        fn deref(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.0).ok();
        }
    }
    fn temp_dir(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("sunward-desktop-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        TempDir(dir)
    }

    /// A mock-runtime app around a real core on a fresh database in `dir`.
    fn mock_app(dir: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
        std::fs::create_dir_all(dir).unwrap();
        let core = tauri::async_runtime::block_on(Core::start(AppOptions {
            db: Some(dir.join("test.db").into()),
            ..Default::default()
        }))
        .expect("core starts");
        builder(mock_builder(), core)
            .build(mock_context(noop_assets()))
            .expect("mock app builds")
    }

    fn invoke(
        webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
        body: Value,
    ) -> Result<Value, Value> {
        get_ipc_response(
            webview,
            InvokeRequest {
                cmd: "dispatch".into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    #[test]
    fn dispatch_reaches_the_core_and_returns_its_errors_as_strings() {
        let dir = temp_dir("dispatch");
        let app = mock_app(&dir);
        let webview = WebviewWindowBuilder::new(&app, "operator", Default::default())
            .build()
            .unwrap();
        let health = invoke(&webview, json!({"command": "health", "args": {}})).unwrap();
        assert_eq!(health["ok"], true, "{health}");
        // `args` may be left out or null.
        let profile = invoke(&webview, json!({"command": "wall_profile"})).unwrap();
        assert_eq!(profile["name"], "default");
        assert_eq!(profile["screens"][0]["views"], json!(["volume"]));
        let profile = invoke(&webview, json!({"command": "wall_profile", "args": null})).unwrap();
        assert_eq!(profile["screens"].as_array().map(Vec::len), Some(3));
        let err = invoke(&webview, json!({"command": "no_such_command", "args": {}})).unwrap_err();
        assert!(
            err.as_str().unwrap_or_default().contains("no_such_command"),
            "unexpected error {err}"
        );
        let err = invoke(&webview, json!({"command": "stream", "args": {"limit": 0}})).unwrap_err();
        assert!(err.is_string(), "{err}");
        // `command` may not be left out.
        assert!(invoke(&webview, json!({"args": {}})).is_err());
    }

    #[test]
    fn core_bus_events_are_emitted_to_windows() {
        let dir = temp_dir("core");
        let app = mock_app(&dir);
        let got: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = got.clone();
        app.listen_any(EVENT, move |e| {
            sink.lock()
                .unwrap()
                .push(serde_json::from_str(e.payload()).unwrap());
        });
        let core = app.state::<CoreState>().0.clone();
        forward_events(app.handle().clone(), core.subscribe());
        core.bus().publish(Event::Heartbeat { now: 42 });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !got
            .lock()
            .unwrap()
            .contains(&json!({"type": "heartbeat", "now": 42}))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            got.lock()
                .unwrap()
                .contains(&json!({"type": "heartbeat", "now": 42})),
            "{:?}",
            got.lock().unwrap()
        );
    }

    #[test]
    fn bus_events_reach_windows_and_lag_becomes_resync() {
        let dir = temp_dir("bus");
        let app = mock_app(&dir);
        let got: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = got.clone();
        app.listen_any(EVENT, move |e| {
            sink.lock()
                .unwrap()
                .push(serde_json::from_str(e.payload()).unwrap());
        });
        let (tx, rx) = broadcast::channel(2);
        // Overflow the channel before forwarding starts: the receiver lags.
        for now in 0..4 {
            tx.send(Event::Heartbeat { now }).unwrap();
        }
        forward_events(app.handle().clone(), rx);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while got.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let got = got.lock().unwrap().clone();
        assert_eq!(
            got,
            [
                json!({"type": "resync"}),
                json!({"type": "heartbeat", "now": 2}),
                json!({"type": "heartbeat", "now": 3}),
            ]
        );
    }
}

#[cfg(test)]
mod option_tests {
    use super::*;

    fn opts(args: &[&str]) -> Options {
        Options::parse_from(std::iter::once("sunward-desktop").chain(args.iter().copied()))
    }

    #[test]
    fn demo_flag_forms() {
        assert_eq!(opts(&["--demo"]).demo, Demo::On);
        assert_eq!(opts(&["--demo", "off"]).demo, Demo::Off);
        assert_eq!(opts(&["--demo=0"]).demo, Demo::Off);
        assert_eq!(opts(&["--demo", "--no-wall"]).demo, Demo::On);
        assert!(opts(&["--demo", "--no-wall"]).no_wall);
        assert!(Options::try_parse_from(["x", "--demo", "maybe"]).is_err());
    }

    #[test]
    fn auto_demo_is_on_only_while_the_database_has_no_mentions() {
        let dir = std::env::temp_dir().join(format!("sunward-desktop-demo-{}", std::process::id()));
        let db = dir.join("sub").join("s.db");
        let db_arg = db.to_str().unwrap();
        tauri::async_runtime::block_on(async {
            let auto = opts(&["--db", db_arg, "--demo", "auto"]);
            let first = core_options(&auto).await.unwrap();
            assert!(first.demo, "no database yet: demo");
            assert_eq!(first.db, Some(db.clone().into()));
            assert!(
                core_options(&auto).await.unwrap().demo,
                "empty database: demo"
            );
            assert!(
                !core_options(&opts(&["--db", db_arg, "--demo", "off"]))
                    .await
                    .unwrap()
                    .demo
            );
            // The demo backfills mentions; from then on `auto` leaves the demo off.
            let core = Core::start(
                core_options(&opts(&["--db", db_arg, "--demo"]))
                    .await
                    .unwrap(),
            )
            .await
            .unwrap();
            // The backfill runs in the background: wait for its first stored batch.
            let started = std::time::Instant::now();
            while core.store().mention_count().await.unwrap() == 0 {
                assert!(
                    started.elapsed().as_secs() < 30,
                    "the demo stored nothing in 30 s"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            drop(core);
            assert!(
                !core_options(&auto).await.unwrap().demo,
                "mentions stored: no demo"
            );
        });
        std::fs::remove_dir_all(&dir).ok();
    }
}
