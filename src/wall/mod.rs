//! The wall: profiles (what each screen shows, scenes by time of day, sites, takeover and
//! showcase settings), the pure monitor layout function (monitors + profile -> one window plan
//! per monitor), playlists, the walls' live state (operator controls, takeovers, freshness)
//! and the wall commands. No Tauri here: the desktop shell (`src-tauri/`) reads the monitors,
//! calls [`plan`] and applies the result.

pub mod api;
mod layout;
mod playlist;
mod profile;
pub mod registry;
mod scenes;
mod state;
mod views;

pub use layout::{label, missing_monitors, order, plan, Monitor, WindowPlan};
pub use playlist::{playlist_at, MIN_DWELL_SECONDS};
pub use profile::{
    check, severity_rank, Checked, Item, MissingMonitors, MonitorPolicy, Problem, Screen,
    ShowcaseSettings, Site, SurplusMonitors, Takeover, Theme, WallError, WallProfile,
    DEFAULT_PROFILE_TOML, DEFAULT_ROTATE_SECONDS, DEFAULT_STALE_AFTER_SECONDS,
};
pub use registry::Registry;
pub use scenes::{local_to_utc, Scene};
pub use state::{Control, SourceFreshness, Walls};
pub use views::{is_known_view, KNOWN_VIEWS};
