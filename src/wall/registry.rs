//! Where profiles come from: the one the core was started with, its sibling `*.toml` files
//! (a wall directory), and the profiles shipped in `assets/walls/` (embedded).

use std::path::{Path, PathBuf};

use super::profile::{check, Checked, WallProfile};

/// Profiles embedded in the binary: `(name, TOML)`.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("default", include_str!("../../assets/walls/default.toml")),
    (
        "six-screen",
        include_str!("../../assets/walls/six-screen.toml"),
    ),
    ("lobby", include_str!("../../assets/walls/lobby.toml")),
];

/// The profiles a server knows, by name.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The profile the core was started with (the desktop's and `#/wall/N`'s).
    pub primary: Checked,
    pub primary_path: Option<PathBuf>,
    others: Vec<(String, Checked, Option<PathBuf>)>,
}

impl Registry {
    /// Loads `primary` (or the built-in default), the other `*.toml` beside it, and the built-in
    /// profiles. Never fails: broken files are logged and stand as the safe default layout.
    pub fn load(primary: Option<&Path>) -> Registry {
        let first = match primary {
            Some(p) => WallProfile::load_or_fallback(p),
            None => check(BUILT_IN[0].1),
        };
        let mut others: Vec<(String, Checked, Option<PathBuf>)> = Vec::new();
        if let Some(dir) = primary.and_then(Path::parent) {
            if let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }) {
                let mut paths: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .filter(|p| Some(p.as_path()) != primary)
                    .collect();
                paths.sort();
                for p in paths {
                    let text = match std::fs::read_to_string(&p) {
                        Ok(t) => t,
                        Err(_) => continue,
                    };
                    // Only files that look like wall profiles (a config.toml may sit beside).
                    if !text.contains("[[screens]]") {
                        continue;
                    }
                    let c = check(&text);
                    let name = if c.fallback {
                        p.file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    } else {
                        c.profile.name.clone()
                    };
                    others.push((name, c, Some(p)));
                }
            }
        }
        for (name, text) in BUILT_IN {
            others.push((name.to_string(), check(text), None));
        }
        Registry {
            primary: first,
            primary_path: primary.map(Path::to_path_buf),
            others,
        }
    }

    /// The profile called `name` (the primary first, then files, then built-ins).
    pub fn get(&self, name: &str) -> Option<&Checked> {
        if self.primary.profile.name == name && !self.primary.fallback {
            return Some(&self.primary);
        }
        self.others
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, c, _)| c)
    }

    /// The file a named profile was read from (None for built-ins).
    pub fn path_of(&self, name: &str) -> Option<&Path> {
        if self.primary.profile.name == name {
            return self.primary_path.as_deref();
        }
        self.others
            .iter()
            .find(|(n, _, _)| n == name)
            .and_then(|(_, _, p)| p.as_deref())
    }

    /// Names, primary first, without repeats.
    pub fn names(&self) -> Vec<String> {
        let mut out = vec![self.primary.profile.name.clone()];
        for (n, _, _) in &self.others {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
        out
    }

    /// Replaces (or adds) a profile after `wall.save`.
    pub fn put(&mut self, name: &str, checked: Checked, path: Option<PathBuf>) {
        if self.primary.profile.name == name
            || self.primary_path.is_some() && self.primary_path == path
        {
            self.primary = checked;
            return;
        }
        self.others.retain(|(n, _, _)| n != name);
        self.others.insert(0, (name.to_string(), checked, path));
    }

    /// Every profile (for the operator panel).
    pub fn all(&self) -> Vec<(&str, &Checked)> {
        let mut out: Vec<(&str, &Checked)> =
            vec![(self.primary.profile.name.as_str(), &self.primary)];
        for (n, c, _) in &self.others {
            if !out.iter().any(|(m, _)| m == n) {
                out.push((n.as_str(), c));
            }
        }
        out
    }
}
