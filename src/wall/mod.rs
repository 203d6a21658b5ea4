//! The wall: wall profiles (what each screen shows) and the pure monitor layout function
//! (monitors + profile -> one window plan per monitor). No Tauri here: the desktop shell
//! (`src-tauri/`) reads the monitors, calls [`plan`] and applies the result.
//!
//! The `wall_profile` API command returns a [`WallProfile`] serialized as it is.

mod layout;
mod profile;

pub use layout::{label, order, plan, Monitor, WindowPlan};
pub use profile::{
    MissingMonitors, MonitorPolicy, Screen, SurplusMonitors, WallError, WallProfile,
    DEFAULT_PROFILE_TOML, DEFAULT_ROTATE_SECONDS,
};
