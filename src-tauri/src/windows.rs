//! Windows: the operator window and the wall windows. The wall is computed by the pure
//! `sunward::wall::plan`; this module only reads the monitors and applies the plan, and keeps
//! applying it as monitors are plugged in or out, as scenes change and as profiles are saved
//! (polled every second). A wall window whose page stopped reporting (a crashed or hung
//! webview) is re-created, and the operator window is moved back when its monitor goes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sunward::api::App as Core;
use sunward::wall::{self, Monitor, WindowPlan};
use tauri::{
    AppHandle, Manager, PhysicalPosition, PhysicalSize, Runtime, WebviewUrl, WebviewWindowBuilder,
};

/// Label of the operator window.
pub const OPERATOR: &str = "operator";

/// How often the monitor set is read.
pub const POLL: Duration = Duration::from_millis(1000);
/// Re-check delay while a replaced window is still being destroyed.
const RETRY: Duration = Duration::from_millis(200);
/// A wall page reports every 5 s (`wall.alive`); silent this long, its webview is re-created.
pub const DEAD_AFTER: Duration = Duration::from_secs(30);

/// The operator window: a normal, decorated 1280x800 window on the UI route `#/operator`.
pub fn open_operator<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    if let Some(w) = app.get_webview_window(OPERATOR) {
        return w.set_focus();
    }
    WebviewWindowBuilder::new(
        app,
        OPERATOR,
        WebviewUrl::App("index.html#/operator".into()),
    )
    .title("Sunward")
    .inner_size(1280.0, 800.0)
    .min_inner_size(800.0, 500.0)
    .center()
    .build()?;
    Ok(())
}

/// The monitors as the layout function sees them.
pub fn monitors<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Vec<Monitor>> {
    Ok(app
        .available_monitors()?
        .iter()
        .enumerate()
        .map(|(i, m)| Monitor {
            name: m
                .name()
                .filter(|n| !n.is_empty())
                .cloned()
                .unwrap_or_else(|| format!("monitor-{i}")),
            x: m.position().x,
            y: m.position().y,
            width: m.size().width,
            height: m.size().height,
            scale_factor: m.scale_factor(),
        })
        .collect())
}

/// Script run in a wall window before the UI loads: what this window shows (its plan: items
/// with their dwell times, profile, theme, zoom, showcase), for a UI that wants more than its
/// route (`#/wall/{screen}`) tells, e.g. views merged in from unplugged monitors.
fn wall_script(plan: &WindowPlan) -> String {
    let info = serde_json::json!({
        "label": plan.label,
        "screen": plan.screen,
        "title": plan.title,
        "views": plan.views,
        "items": plan.items,
        "rotate_seconds": plan.rotate_seconds,
        "profile_screens": plan.profile_screens,
        "profile": plan.profile,
        "theme": plan.theme,
        "zoom": plan.zoom,
        "showcase": plan.showcase,
        "monitor": plan.monitor_name,
    });
    format!(
        "Object.defineProperty(window, '__SUNWARD_WALL__', {{ value: Object.freeze({info}), writable: false }});"
    )
}

/// Opens one wall window. Known working order on Linux: build hidden, show, position, size,
/// then fullscreen.
pub fn open_wall<R: Runtime>(app: &AppHandle<R>, plan: &WindowPlan) -> tauri::Result<()> {
    let window =
        WebviewWindowBuilder::new(app, &plan.label, WebviewUrl::App(plan.url.clone().into()))
            .title(format!("Sunward wall {}: {}", plan.screen, plan.title))
            .visible(false)
            .decorations(false)
            .focused(false)
            .skip_taskbar(true)
            .initialization_script(wall_script(plan))
            .build()?;
    window.show()?;
    window.set_position(PhysicalPosition::new(plan.x, plan.y))?;
    window.set_size(PhysicalSize::new(plan.width, plan.height))?;
    if plan.fullscreen {
        window.set_fullscreen(true)?;
    }
    Ok(())
}

/// The applied wall: label -> plan of the open window.
#[derive(Debug, Default)]
pub struct Wall {
    applied: BTreeMap<String, WindowPlan>,
    /// When each window was (re)opened: only its own page's reports count for it.
    opened: BTreeMap<String, Instant>,
}

/// Same window content and place (the monitor's index in the OS list may shift harmlessly).
fn same(a: &WindowPlan, b: &WindowPlan) -> bool {
    WindowPlan {
        monitor_index: 0,
        ..a.clone()
    } == WindowPlan {
        monitor_index: 0,
        ..b.clone()
    }
}

impl Wall {
    /// Brings the open wall windows in line with `desired`: windows whose plan changed or that
    /// are no longer wanted are destroyed, missing ones are opened. Returns true while something
    /// is still pending (a label still held by a window being destroyed, or an open that failed).
    pub fn reconcile<R: Runtime>(&mut self, app: &AppHandle<R>, desired: &[WindowPlan]) -> bool {
        let mut pending = false;
        // Windows that went away on their own (closed by hand, crashed) are re-opened.
        self.applied
            .retain(|label, _| app.get_webview_window(label).is_some());
        let stale: Vec<String> = self
            .applied
            .iter()
            .filter(|(label, applied)| {
                !desired
                    .iter()
                    .any(|p| &p.label == *label && same(p, applied))
            })
            .map(|(label, _)| label.clone())
            .collect();
        for label in stale {
            tracing::info!(%label, "closing wall window");
            if let Some(w) = app.get_webview_window(&label) {
                if let Err(e) = w.destroy() {
                    tracing::warn!(%label, "cannot close wall window: {e}");
                }
            }
            self.applied.remove(&label);
            pending = true;
        }
        for plan in desired {
            if self.applied.contains_key(&plan.label) {
                continue;
            }
            if app.get_webview_window(&plan.label).is_some() {
                // The old window with this label is still being destroyed.
                pending = true;
                continue;
            }
            tracing::info!(
                label = %plan.label, monitor = %plan.monitor_name,
                x = plan.x, y = plan.y, width = plan.width, height = plan.height,
                views = ?plan.views, "opening wall window"
            );
            match open_wall(app, plan) {
                Ok(()) => {
                    self.applied.insert(plan.label.clone(), plan.clone());
                    self.opened.insert(plan.label.clone(), Instant::now());
                }
                Err(e) => {
                    tracing::warn!(label = %plan.label, "cannot open wall window: {e}");
                    if let Some(w) = app.get_webview_window(&plan.label) {
                        let _ = w.destroy();
                    }
                    pending = true;
                }
            }
        }
        pending
    }
}

/// Re-creates wall windows whose page stopped reporting: a crashed web process leaves a blank
/// window behind, which no monitor change would ever replace. Returns true if it closed one.
pub fn reap_dead<R: Runtime>(app: &AppHandle<R>, core: &Core, wall: &mut Wall) -> bool {
    let mut closed = false;
    let labels: Vec<String> = wall.applied.keys().cloned().collect();
    for label in labels {
        let Some(seen) = core.walls().last_alive(&label) else {
            continue; // not reported yet (loading): never reap a window that never ran
        };
        if wall.opened.get(&label).is_some_and(|&o| seen < o) {
            continue; // the report was the previous window's; this one is still loading
        }
        if seen.elapsed() < DEAD_AFTER {
            continue;
        }
        tracing::warn!(%label, silent_s = seen.elapsed().as_secs(), "wall page stopped reporting; re-creating its window");
        core.walls().forget_alive(&label);
        if let Some(w) = app.get_webview_window(&label) {
            let _ = w.destroy();
        }
        wall.applied.remove(&label);
        closed = true;
    }
    closed
}

/// Moves the operator window onto the first monitor when no monitor shows it any more.
fn keep_operator_on_screen<R: Runtime>(app: &AppHandle<R>, monitors: &[Monitor]) {
    let Some(w) = app.get_webview_window(OPERATOR) else {
        return;
    };
    let (Ok(pos), Ok(size)) = (w.outer_position(), w.outer_size()) else {
        return;
    };
    let (cx, cy) = (
        pos.x + size.width as i32 / 2,
        pos.y + size.height as i32 / 2,
    );
    let visible = monitors
        .iter()
        .any(|m| cx >= m.x && cy >= m.y && cx < m.x + m.width as i32 && cy < m.y + m.height as i32);
    if visible {
        return;
    }
    let Some(m) = wall::order(monitors).first().map(|&i| &monitors[i]) else {
        return;
    };
    let x = m.x + (m.width as i32 - size.width.min(m.width) as i32) / 2;
    let y = m.y + (m.height as i32 - size.height.min(m.height) as i32) / 2;
    tracing::info!(monitor = %m.name, x, y, "operator window was off-screen; moving it back");
    let _ = w.set_position(PhysicalPosition::new(x, y));
}

/// Applies the wall plan now and then whenever the monitor set, the scene in force or the
/// profile changes, on a thread of its own (monitor queries wait for the event loop, so they
/// must not run on it). The profile is the core's (a profile saved from the operator panel
/// takes effect within a second).
pub fn follow_monitors<R: Runtime>(app: AppHandle<R>, core: Core) {
    let spawned = std::thread::Builder::new()
        .name("sunward-monitors".into())
        .spawn(move || {
            let mut wall = Wall::default();
            let mut last: Option<Vec<Monitor>> = None;
            let mut last_scene: Option<Option<String>> = None;
            let started = Instant::now();
            loop {
                let now = chrono::DateTime::from_timestamp_millis(core.clock().now_ms())
                    .unwrap_or_else(chrono::Utc::now);
                let profile = core.walls().registry().primary.profile.at(now);
                if last_scene.as_ref() != Some(&profile.active_scene) {
                    tracing::info!(profile = %profile.name, scene = ?profile.active_scene, "wall scene");
                    last_scene = Some(profile.active_scene.clone());
                }
                let pending = match monitors(&app) {
                    Ok(found) => {
                        if last.as_ref() != Some(&found) {
                            tracing::info!(
                                monitors = ?found.iter().map(|m| format!("{} {}x{}+{}+{}", m.name, m.width, m.height, m.x, m.y)).collect::<Vec<_>>(),
                                "monitor set"
                            );
                            keep_operator_on_screen(&app, &found);
                            last = Some(found.clone());
                        }
                        let reaped = started.elapsed() > DEAD_AFTER && reap_dead(&app, &core, &mut wall);
                        wall.reconcile(&app, &wall::plan(&found, &profile)) || reaped
                    }
                    Err(e) => {
                        tracing::warn!("cannot list monitors: {e}");
                        false
                    }
                };
                std::thread::sleep(if pending { RETRY } else { POLL });
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the monitor thread, no wall windows: {e}");
    }
}
