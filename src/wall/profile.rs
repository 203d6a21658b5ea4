//! Wall profiles: which views each wall screen shows, and what to do when the number of
//! connected monitors differs from the number of screens. Loaded from TOML.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The default profile, `assets/wall/default.toml`, embedded in the binary.
pub const DEFAULT_PROFILE_TOML: &str = include_str!("../../assets/wall/default.toml");

/// Rotation period used where none is given.
pub const DEFAULT_ROTATE_SECONDS: u32 = 20;

#[derive(Debug, thiserror::Error)]
pub enum WallError {
    #[error("cannot read wall profile {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("wall profile is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("invalid wall profile: {0}")]
    Invalid(String),
}

/// What the wall shows. Serializes to the `wall_profile` command's result:
/// `{name, rotate_seconds, monitors:{missing, surplus}, screens:[{index, title, views, rotate_seconds}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WallProfile {
    pub name: String,
    /// Rotation period of the rotations the planner builds (merged screens without a
    /// rotation of their own, extra monitors).
    #[serde(default = "default_rotate")]
    pub rotate_seconds: u32,
    #[serde(default)]
    pub monitors: MonitorPolicy,
    /// Screens, numbered 0..n by `index`; screen `k` goes to the k-th monitor.
    pub screens: Vec<Screen>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Screen {
    pub index: usize,
    #[serde(default)]
    pub title: String,
    pub views: Vec<String>,
    /// Seconds per view; 0 = no rotation (single view only).
    #[serde(default = "default_rotate")]
    pub rotate_seconds: u32,
}

/// What to do when the monitor count differs from the screen count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorPolicy {
    #[serde(default)]
    pub missing: MissingMonitors,
    #[serde(default)]
    pub surplus: SurplusMonitors,
}

/// Fewer monitors than screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingMonitors {
    /// The surplus screens' views join the remaining screens' rotations, round robin.
    #[default]
    Merge,
    /// The surplus screens are not shown.
    Drop,
}

/// More monitors than screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurplusMonitors {
    /// Every extra monitor rotates through all views of the profile.
    #[default]
    RotateAll,
    /// Extra monitors get no wall window.
    None,
}

fn default_rotate() -> u32 {
    DEFAULT_ROTATE_SECONDS
}

impl Default for WallProfile {
    /// The embedded `assets/wall/default.toml`.
    fn default() -> Self {
        WallProfile::from_toml(DEFAULT_PROFILE_TOML)
            .expect("assets/wall/default.toml is a valid wall profile (pinned by a unit test)")
    }
}

impl WallProfile {
    /// Parses and validates a profile; screens come back sorted by `index`.
    pub fn from_toml(text: &str) -> Result<WallProfile, WallError> {
        let mut profile: WallProfile = toml::from_str(text)?;
        profile.screens.sort_by_key(|s| s.index);
        profile.validate()?;
        Ok(profile)
    }

    /// Reads a profile file.
    pub fn load(path: &Path) -> Result<WallProfile, WallError> {
        let text = std::fs::read_to_string(path).map_err(|source| WallError::Read {
            path: path.display().to_string(),
            source,
        })?;
        WallProfile::from_toml(&text)
    }

    /// Checks what the planner relies on. Expects screens sorted by index.
    pub fn validate(&self) -> Result<(), WallError> {
        let bad = |msg: String| Err(WallError::Invalid(msg));
        if self.name.trim().is_empty() {
            return bad("`name` is empty; give the profile a name".into());
        }
        if self.screens.is_empty() {
            return bad("no `[[screens]]`; add at least one screen with its views".into());
        }
        if self.rotate_seconds == 0 {
            return bad("`rotate_seconds` of the profile must be at least 1".into());
        }
        for (k, screen) in self.screens.iter().enumerate() {
            if screen.index != k {
                return bad(format!(
                    "screen indices must be 0, 1, 2, ... without gaps or repeats; \
                     expected index {k}, found {} (sorted: {:?})",
                    screen.index,
                    self.screens.iter().map(|s| s.index).collect::<Vec<_>>()
                ));
            }
            if screen.views.is_empty() {
                return bad(format!("screen {k} has no views; list at least one"));
            }
            if let Some(v) = screen.views.iter().find(|v| v.trim().is_empty()) {
                return bad(format!("screen {k} has an empty view name {v:?}"));
            }
            let mut seen = HashSet::new();
            if let Some(v) = screen.views.iter().find(|v| !seen.insert(v.as_str())) {
                return bad(format!("screen {k} lists view {v:?} twice"));
            }
            if screen.views.len() > 1 && screen.rotate_seconds == 0 {
                return bad(format!(
                    "screen {k} rotates {} views but `rotate_seconds` is 0; set it to the seconds per view",
                    screen.views.len()
                ));
            }
        }
        Ok(())
    }

    /// Every view of the profile once, in screen order.
    pub fn all_views(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in self.screens.iter().flat_map(|s| s.views.iter()) {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profile_parses_and_has_the_three_core_views() {
        let p = WallProfile::default();
        assert_eq!(p.name, "default");
        assert_eq!(p.screens.len(), 3);
        assert_eq!(p.all_views(), ["volume", "sentiment", "stream"]);
        assert_eq!(p.monitors.missing, MissingMonitors::Merge);
        assert_eq!(p.monitors.surplus, SurplusMonitors::RotateAll);
    }

    #[test]
    fn screens_are_sorted_by_index_and_defaults_apply() {
        let p = WallProfile::from_toml(
            r#"
            name = "x"
            [[screens]]
            index = 1
            views = ["b"]
            [[screens]]
            index = 0
            title = "A"
            views = ["a", "c"]
            "#,
        )
        .unwrap();
        assert_eq!(p.screens[0].title, "A");
        assert_eq!(p.screens[1].views, ["b"]);
        assert_eq!(p.screens[1].rotate_seconds, DEFAULT_ROTATE_SECONDS);
        assert_eq!(p.rotate_seconds, DEFAULT_ROTATE_SECONDS);
        assert_eq!(p.monitors, MonitorPolicy::default());
    }

    #[test]
    fn policies_parse_from_snake_case() {
        let p = WallProfile::from_toml(
            "name = \"x\"\n[monitors]\nmissing = \"drop\"\nsurplus = \"none\"\n\
             [[screens]]\nindex = 0\nviews = [\"a\"]\n",
        )
        .unwrap();
        assert_eq!(p.monitors.missing, MissingMonitors::Drop);
        assert_eq!(p.monitors.surplus, SurplusMonitors::None);
    }

    fn err(text: &str) -> String {
        WallProfile::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn invalid_profiles_say_what_to_fix() {
        assert!(err("name = \"x\"\nscreens = []\n").contains("at least one screen"));
        assert!(err(
            "name = \"x\"\n[[screens]]\nindex = 0\nviews = [\"a\"]\n[[screens]]\nindex = 0\nviews = [\"b\"]\n"
        )
        .contains("without gaps or repeats"));
        assert!(
            err("name = \"x\"\n[[screens]]\nindex = 1\nviews = [\"a\"]\n")
                .contains("expected index 0")
        );
        assert!(err("name = \"x\"\n[[screens]]\nindex = 0\nviews = []\n").contains("no views"));
        assert!(
            err("name = \"x\"\n[[screens]]\nindex = 0\nviews = [\"a\", \"a\"]\n").contains("twice")
        );
        assert!(err(
            "name = \"x\"\n[[screens]]\nindex = 0\nviews = [\"a\", \"b\"]\nrotate_seconds = 0\n"
        )
        .contains("rotate_seconds"));
        assert!(err("name = \"x\"\n[monitors]\nmissing = \"explode\"\n[[screens]]\nindex = 0\nviews = [\"a\"]\n")
            .contains("TOML"));
        assert!(
            err("name = \"x\"\ncolour = 1\n[[screens]]\nindex = 0\nviews = [\"a\"]\n")
                .contains("colour")
        );
    }

    #[test]
    fn serializes_to_the_wall_profile_command_shape() {
        let v = serde_json::to_value(WallProfile::default()).unwrap();
        assert_eq!(v["name"], "default");
        assert_eq!(v["screens"][0]["index"], 0);
        assert_eq!(v["screens"][0]["title"], "Volume");
        assert_eq!(v["screens"][0]["views"], serde_json::json!(["volume"]));
        assert_eq!(v["screens"][2]["rotate_seconds"], 0);
        assert_eq!(v["monitors"]["missing"], "merge");
        assert_eq!(v["monitors"]["surplus"], "rotate_all");
    }
}
