//! Wall profiles: which views (or playlists with per-item dwell times) each wall screen shows,
//! on which monitor, with which theme and zoom; scenes that swap the screens by time of day and
//! day of week; sites for the follow-the-sun strip; the takeover and showcase settings.
//!
//! Loading never fails a wall: [`check`] parses and validates a TOML text into a [`Checked`]
//! whose `profile` is the profile itself when it is sound, or the safe default layout with
//! every problem listed (line, field, what to fix) when it is not.

use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::scenes::{parse_days, parse_hhmm, Scene};
use super::views::{is_known_view, KNOWN_VIEWS};

/// The default profile, `assets/walls/default.toml`, embedded in the binary.
pub const DEFAULT_PROFILE_TOML: &str = include_str!("../../assets/walls/default.toml");

/// Rotation period used where none is given.
pub const DEFAULT_ROTATE_SECONDS: u32 = 20;
/// Seconds without new data from an expected source before a view turns amber.
pub const DEFAULT_STALE_AFTER_SECONDS: u32 = 120;
/// Largest zoom a screen may ask for.
pub const MAX_ZOOM: f64 = 4.0;

#[derive(Debug, thiserror::Error)]
pub enum WallError {
    #[error("cannot read wall profile {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid wall profile: {0}")]
    Invalid(String),
}

/// What the wall shows. Serialized as it is by the `wall_profile` command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WallProfile {
    pub name: String,
    /// IANA time zone of the site the scenes are written for (`Europe/Berlin`); UTC if absent.
    pub timezone: Option<String>,
    /// Dwell of rotations the planner builds (merged screens, extra monitors).
    pub rotate_seconds: u32,
    /// Data older than this (from a source that should flow) turns a view amber, twice that red.
    pub stale_after_seconds: u32,
    pub theme: Theme,
    pub zoom: f64,
    pub monitors: MonitorPolicy,
    pub takeover: Takeover,
    pub showcase: ShowcaseSettings,
    pub sites: Vec<Site>,
    /// Screens 0..n; the base scene (shown when no scene matches).
    pub screens: Vec<Screen>,
    pub scenes: Vec<Scene>,
    /// The scene whose screens these are, once resolved with [`WallProfile::at`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_scene: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Screen {
    pub index: usize,
    pub title: String,
    /// Preferred monitor by name (`DP-1`, `DUMMY2`); screen index order when it is not there.
    pub monitor: Option<String>,
    /// View names, each shown `rotate_seconds` (the short form of a playlist).
    pub views: Vec<String>,
    /// Seconds per view; 0 = no rotation (single view only).
    pub rotate_seconds: u32,
    /// Views with their own dwell times; when given, `views` mirrors its view names.
    pub playlist: Vec<Item>,
    /// Overrides the profile's theme and zoom.
    pub theme: Option<Theme>,
    pub zoom: Option<f64>,
    /// Visitor mode: masked, delayed data (src/showcase).
    pub showcase: bool,
}

/// One entry of a playlist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub view: String,
    /// Seconds on screen.
    pub dwell: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// A line shown with the view (tour captions in showcase mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

impl Item {
    fn same_content(&self, other: &Item) -> bool {
        (&self.view, &self.topic, &self.channel) == (&other.view, &other.topic, &other.channel)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    Dark,
    Light,
    /// Maximum contrast for far or washed-out screens.
    Contrast,
}

impl Theme {
    fn parse(s: &str) -> Option<Theme> {
        match s {
            "dark" => Some(Theme::Dark),
            "light" => Some(Theme::Light),
            "contrast" => Some(Theme::Contrast),
            _ => None,
        }
    }
}

/// Alert takeover: alerts at or above `severity` pin the crisis view on every screen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Takeover {
    /// `watch`, `warning` or `crisis`; `None` = takeover off.
    pub severity: Option<String>,
    /// Play a short tone when a takeover starts.
    pub sound: bool,
}

impl Default for Takeover {
    fn default() -> Self {
        Takeover {
            severity: Some("crisis".into()),
            sound: false,
        }
    }
}

/// Alert severities, lowest first.
pub const SEVERITIES: [&str; 3] = ["watch", "warning", "crisis"];

/// Rank of a severity (watch 0, warning 1, crisis 2); unknown ones rank below everything.
pub fn severity_rank(s: &str) -> i32 {
    SEVERITIES
        .iter()
        .position(|x| x.eq_ignore_ascii_case(s.trim()))
        .map_or(-1, |p| p as i32)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShowcaseSettings {
    /// Posts reach a showcase screen only this long after they were written.
    pub delay_minutes: u32,
    /// Only posts a lead approved (`showcase.approve`) reach showcase screens.
    pub approval: bool,
    /// Wall tokens (by name) that always get masked data, whatever screen they ask for.
    pub tokens: Vec<String>,
    /// Captions of the auto-tour, one per tour step.
    pub captions: Vec<String>,
}

impl Default for ShowcaseSettings {
    fn default() -> Self {
        ShowcaseSettings {
            delay_minutes: 5,
            approval: false,
            tokens: Vec::new(),
            captions: Vec::new(),
        }
    }
}

/// A site of the follow-the-sun strip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    pub name: String,
    pub timezone: String,
    /// Local shift hours, `08:00-20:00` (may cross midnight).
    pub shift: Option<String>,
    pub team: Option<String>,
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

/// One thing wrong with a profile: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line in the TOML text (0 when the text is not at hand).
    pub line: usize,
    /// Dotted path of the field, `screens[1].playlist[0].dwell`.
    pub field: String,
    pub message: String,
    pub fix: String,
    /// Warnings do not stop the profile from being used.
    pub warning: bool,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.warning { "warning" } else { "error" };
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        write!(f, "{kind}: ")?;
        if !self.field.is_empty() {
            write!(f, "`{}`: ", self.field)?;
        }
        write!(f, "{}", self.message)?;
        if !self.fix.is_empty() {
            write!(f, "; fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// A profile after checking.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// The profile, or the safe default layout when it has errors.
    pub profile: WallProfile,
    pub problems: Vec<Problem>,
    /// True when `profile` is the safe default standing in for a broken profile.
    pub fallback: bool,
}

impl Checked {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| !p.warning)
    }
    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }
}

// ---- raw (as written, with spans) ------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    rotate_seconds: Option<Spanned<i64>>,
    stale_after_seconds: Option<Spanned<i64>>,
    theme: Option<Spanned<String>>,
    zoom: Option<Spanned<f64>>,
    #[serde(default)]
    monitors: MonitorPolicy,
    #[serde(default)]
    takeover: RawTakeover,
    #[serde(default)]
    showcase: RawShowcase,
    #[serde(default)]
    sites: Vec<RawSite>,
    #[serde(default)]
    screens: Vec<RawScreen>,
    #[serde(default)]
    scenes: Vec<RawScene>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTakeover {
    severity: Option<Spanned<String>>,
    #[serde(default)]
    sound: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawShowcase {
    delay_minutes: Option<Spanned<i64>>,
    #[serde(default)]
    approval: bool,
    #[serde(default)]
    tokens: Vec<String>,
    #[serde(default)]
    captions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    name: Spanned<String>,
    timezone: Spanned<String>,
    shift: Option<Spanned<String>>,
    team: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScreen {
    index: Spanned<i64>,
    #[serde(default)]
    title: String,
    monitor: Option<Spanned<String>>,
    views: Option<Spanned<Vec<Spanned<String>>>>,
    rotate_seconds: Option<Spanned<i64>>,
    playlist: Option<Spanned<Vec<RawItem>>>,
    theme: Option<Spanned<String>>,
    zoom: Option<Spanned<f64>>,
    #[serde(default)]
    showcase: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    view: Spanned<String>,
    dwell: Option<Spanned<i64>>,
    topic: Option<String>,
    channel: Option<String>,
    caption: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScene {
    name: Spanned<String>,
    #[serde(default)]
    days: Option<Spanned<Vec<String>>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    #[serde(default)]
    screens: Vec<RawScreen>,
}

// ---- checking ---------------------------------------------------------------------------------

struct Ctx<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Ctx<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }
    fn error(&mut self, span: Range<usize>, field: &str, message: String, fix: &str) {
        let line = self.line(span);
        self.problems.push(Problem {
            line,
            field: field.into(),
            message,
            fix: fix.into(),
            warning: false,
        });
    }
    fn warn(&mut self, span: Range<usize>, field: &str, message: String, fix: &str) {
        let line = self.line(span);
        self.problems.push(Problem {
            line,
            field: field.into(),
            message,
            fix: fix.into(),
            warning: true,
        });
    }

    fn seconds(&mut self, v: &Option<Spanned<i64>>, field: &str, default: u32, min: i64) -> u32 {
        match v {
            None => default,
            Some(s) => {
                let n = *s.get_ref();
                if n < min || n > 86_400 {
                    self.error(
                        s.span(),
                        field,
                        format!("{n} is out of range"),
                        &format!("use a whole number of seconds from {min} to 86400"),
                    );
                    default
                } else {
                    n as u32
                }
            }
        }
    }

    fn theme(&mut self, v: &Option<Spanned<String>>, field: &str) -> Option<Theme> {
        let s = v.as_ref()?;
        match Theme::parse(s.get_ref().trim()) {
            Some(t) => Some(t),
            None => {
                self.error(
                    s.span(),
                    field,
                    format!("unknown theme {:?}", s.get_ref()),
                    "use \"dark\", \"light\" or \"contrast\"",
                );
                None
            }
        }
    }

    fn zoom(&mut self, v: &Option<Spanned<f64>>, field: &str) -> Option<f64> {
        let s = v.as_ref()?;
        let z = *s.get_ref();
        if !(z.is_finite() && z > 0.0 && z <= MAX_ZOOM) {
            self.error(
                s.span(),
                field,
                format!("zoom {z} is not usable"),
                &format!("use a number above 0 and at most {MAX_ZOOM}, e.g. 1.25"),
            );
            return None;
        }
        Some(z)
    }

    fn view(&mut self, v: &Spanned<String>, field: &str) -> String {
        let name = v.get_ref().trim().to_string();
        if !is_known_view(&name) {
            let near = KNOWN_VIEWS
                .iter()
                .find(|k| k.starts_with(name.get(..2).unwrap_or(&name)))
                .map(|k| format!("did you mean \"{k}\"? "))
                .unwrap_or_default();
            self.error(
                v.span(),
                field,
                format!("unknown view {:?}", v.get_ref()),
                &format!("{near}known views: {}", KNOWN_VIEWS.join(", ")),
            );
        }
        name
    }

    fn screens(
        &mut self,
        raw: &[RawScreen],
        prefix: &str,
        profile_rotate: u32,
        whole: Range<usize>,
    ) -> Vec<Screen> {
        let mut out = Vec::with_capacity(raw.len());
        if raw.is_empty() {
            self.error(
                whole,
                prefix,
                "no screens".into(),
                &format!(
                    "add at least one `[[{prefix}]]` with `index = 0` and `views = [\"volume\"]`"
                ),
            );
        }
        for (k, s) in raw.iter().enumerate() {
            let f = |name: &str| format!("{prefix}[{k}].{name}");
            let index = *s.index.get_ref();
            let rotate = self.seconds(&s.rotate_seconds, &f("rotate_seconds"), 0, 0);
            let mut views = Vec::new();
            let mut playlist = Vec::new();
            match (&s.views, &s.playlist) {
                (Some(_), Some(p)) => self.error(
                    p.span(),
                    &f("playlist"),
                    "a screen has both `views` and `playlist`".into(),
                    "keep one: `views` with `rotate_seconds`, or `[[...playlist]]` items with their own `dwell`",
                ),
                (None, None) => self.error(
                    s.index.span(),
                    &f("views"),
                    format!("screen {index} shows nothing"),
                    "add `views = [\"volume\"]` or `[[...playlist]]` items",
                ),
                (Some(v), None) => {
                    if v.get_ref().is_empty() {
                        self.error(
                            v.span(),
                            &f("views"),
                            "no views listed".into(),
                            "list at least one view, e.g. [\"volume\"]",
                        );
                    }
                    for (j, name) in v.get_ref().iter().enumerate() {
                        let n = self.view(name, &format!("{}[{j}]", f("views")));
                        if views.contains(&n) {
                            self.error(
                                name.span(),
                                &format!("{}[{j}]", f("views")),
                                format!("view {n:?} is listed twice"),
                                "list each view once (use a playlist to show one view longer)",
                            );
                        }
                        views.push(n);
                    }
                    if views.len() > 1 && rotate == 0 {
                        let span = s
                            .rotate_seconds
                            .as_ref()
                            .map_or(v.span(), |r| r.span());
                        self.error(
                            span,
                            &f("rotate_seconds"),
                            format!("{} views rotate but `rotate_seconds` is 0", views.len()),
                            "set `rotate_seconds` to the seconds per view, e.g. 20",
                        );
                    }
                }
                (None, Some(p)) => {
                    if p.get_ref().is_empty() {
                        self.error(
                            p.span(),
                            &f("playlist"),
                            "the playlist is empty".into(),
                            "add items: `[[screens.playlist]]` with `view` and `dwell`",
                        );
                    }
                    for (j, item) in p.get_ref().iter().enumerate() {
                        let fi = |name: &str| format!("{}[{j}].{name}", f("playlist"));
                        let view = self.view(&item.view, &fi("view"));
                        let dwell = match &item.dwell {
                            None => profile_rotate,
                            Some(d) if *d.get_ref() <= 0 || *d.get_ref() > 86_400 => {
                                self.error(
                                    d.span(),
                                    &fi("dwell"),
                                    format!("a dwell of {} seconds", d.get_ref()),
                                    "use a whole number of seconds from 1 to 86400, e.g. 30",
                                );
                                profile_rotate
                            }
                            Some(d) => *d.get_ref() as u32,
                        };
                        let clean = |s: &Option<String>| {
                            s.as_ref()
                                .map(|v| v.trim().to_string())
                                .filter(|v| !v.is_empty())
                        };
                        if !views.contains(&view) {
                            views.push(view.clone());
                        }
                        playlist.push(Item {
                            view,
                            dwell,
                            topic: clean(&item.topic),
                            channel: clean(&item.channel),
                            caption: clean(&item.caption),
                        });
                    }
                }
            }
            let monitor = s.monitor.as_ref().and_then(|m| {
                let n = m.get_ref().trim();
                if n.is_empty() {
                    self.error(
                        m.span(),
                        &f("monitor"),
                        "empty monitor name".into(),
                        "name a monitor as the system calls it (see `xrandr --listmonitors`), or remove the line",
                    );
                    None
                } else {
                    Some(n.to_string())
                }
            });
            out.push(Screen {
                index: index.max(0) as usize,
                title: s.title.trim().to_string(),
                monitor,
                views,
                rotate_seconds: rotate,
                playlist,
                theme: self.theme(&s.theme, &f("theme")),
                zoom: self.zoom(&s.zoom, &f("zoom")),
                showcase: s.showcase,
            });
        }
        // Indices 0..n without gaps or repeats: the planner gives screen k to monitor k.
        let mut order: Vec<(i64, usize)> = raw
            .iter()
            .enumerate()
            .map(|(k, s)| (*s.index.get_ref(), k))
            .collect();
        order.sort();
        for (want, &(got, k)) in order.iter().enumerate() {
            if got != want as i64 {
                self.error(
                    raw[k].index.span(),
                    &format!("{prefix}[{k}].index"),
                    format!(
                        "screen indices must be 0, 1, 2, ... without gaps or repeats; expected {want}, found {got}"
                    ),
                    "number the screens 0, 1, 2, ... from the left",
                );
                break;
            }
        }
        let mut monitors_seen: Vec<&str> = Vec::new();
        for (k, s) in out.iter().enumerate() {
            if let Some(m) = &s.monitor {
                if monitors_seen.contains(&m.as_str()) {
                    let span = raw[k].monitor.as_ref().map_or(0..0, |m| m.span());
                    self.error(
                        span,
                        &format!("{prefix}[{k}].monitor"),
                        format!("monitor {m:?} is named by two screens"),
                        "give each screen its own monitor",
                    );
                }
                monitors_seen.push(m);
            }
        }
        out.sort_by_key(|s| s.index);
        out
    }
}

fn timezone_ok(tz: &str) -> bool {
    tz.parse::<chrono_tz::Tz>().is_ok()
}

/// Parses and validates a profile text. Never fails: a broken profile comes back as the safe
/// default layout plus its problems.
pub fn check(text: &str) -> Checked {
    let raw: RawProfile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let line = e
                .span()
                .map(|s| {
                    text.as_bytes()[..s.start.min(text.len())]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count()
                        + 1
                })
                .unwrap_or(0);
            let message = e.message().trim().to_string();
            let fix = if message.contains("unknown field") {
                "remove or rename the field (see docs/walls.md for the fields a profile has)"
            } else if message.contains("missing field") {
                "add the field"
            } else {
                "fix the TOML syntax or value at that line"
            };
            return fallback(vec![Problem {
                line,
                field: String::new(),
                message,
                fix: fix.into(),
                warning: false,
            }]);
        }
    };
    let mut cx = Ctx {
        text,
        problems: Vec::new(),
    };
    let name = match &raw.name {
        Some(n) if !n.get_ref().trim().is_empty() => n.get_ref().trim().to_string(),
        Some(n) => {
            cx.error(
                n.span(),
                "name",
                "the name is empty".into(),
                "give the profile a name, e.g. name = \"day-shift\"",
            );
            String::new()
        }
        None => {
            cx.error(
                0..0,
                "name",
                "the profile has no name".into(),
                "add name = \"...\" at the top",
            );
            String::new()
        }
    };
    if let Some(tz) = &raw.timezone {
        if !timezone_ok(tz.get_ref()) {
            cx.error(
                tz.span(),
                "timezone",
                format!("unknown time zone {:?}", tz.get_ref()),
                "use an IANA name such as \"Europe/Berlin\" or \"America/New_York\"",
            );
        }
    }
    let rotate = cx.seconds(
        &raw.rotate_seconds,
        "rotate_seconds",
        DEFAULT_ROTATE_SECONDS,
        1,
    );
    let stale = cx.seconds(
        &raw.stale_after_seconds,
        "stale_after_seconds",
        DEFAULT_STALE_AFTER_SECONDS,
        10,
    );
    let theme = cx.theme(&raw.theme, "theme").unwrap_or_default();
    let zoom = cx.zoom(&raw.zoom, "zoom").unwrap_or(1.0);
    let takeover = Takeover {
        severity: match &raw.takeover.severity {
            None => Takeover::default().severity,
            Some(s) if s.get_ref().trim().eq_ignore_ascii_case("off") => None,
            Some(s) if severity_rank(s.get_ref()) >= 0 => Some(s.get_ref().trim().to_lowercase()),
            Some(s) => {
                cx.error(
                    s.span(),
                    "takeover.severity",
                    format!("unknown severity {:?}", s.get_ref()),
                    "use \"watch\", \"warning\", \"crisis\" or \"off\"",
                );
                Takeover::default().severity
            }
        },
        sound: raw.takeover.sound,
    };
    let showcase = ShowcaseSettings {
        delay_minutes: match &raw.showcase.delay_minutes {
            None => 5,
            Some(d) if (0..=24 * 60).contains(d.get_ref()) => *d.get_ref() as u32,
            Some(d) => {
                cx.error(
                    d.span(),
                    "showcase.delay_minutes",
                    format!("a delay of {} minutes", d.get_ref()),
                    "use 0 to 1440 minutes (default 5)",
                );
                5
            }
        },
        approval: raw.showcase.approval,
        tokens: raw.showcase.tokens.clone(),
        captions: raw.showcase.captions.clone(),
    };
    let mut sites = Vec::new();
    for (k, s) in raw.sites.iter().enumerate() {
        if !timezone_ok(s.timezone.get_ref()) {
            cx.error(
                s.timezone.span(),
                &format!("sites[{k}].timezone"),
                format!("unknown time zone {:?}", s.timezone.get_ref()),
                "use an IANA name such as \"Asia/Manila\"",
            );
        }
        if let Some(shift) = &s.shift {
            let ok = shift
                .get_ref()
                .split_once('-')
                .is_some_and(|(a, b)| parse_hhmm(a).is_some() && parse_hhmm(b).is_some());
            if !ok {
                cx.error(
                    shift.span(),
                    &format!("sites[{k}].shift"),
                    format!("cannot read shift hours {:?}", shift.get_ref()),
                    "write local hours as \"08:00-20:00\"",
                );
            }
        }
        sites.push(Site {
            name: s.name.get_ref().trim().to_string(),
            timezone: s.timezone.get_ref().trim().to_string(),
            shift: s.shift.as_ref().map(|x| x.get_ref().trim().to_string()),
            team: s.team.clone(),
        });
    }
    let screens = cx.screens(&raw.screens, "screens", rotate, 0..0);
    let mut scenes = Vec::new();
    for (k, sc) in raw.scenes.iter().enumerate() {
        let f = |n: &str| format!("scenes[{k}].{n}");
        let days = match &sc.days {
            None => parse_days(&[]).unwrap_or_default(),
            Some(d) => match parse_days(d.get_ref()) {
                Ok(days) => days,
                Err(bad) => {
                    cx.error(
                        d.span(),
                        &f("days"),
                        format!("unknown day {bad:?}"),
                        "use mon, tue, wed, thu, fri, sat, sun, \"weekdays\", \"weekend\" or \"daily\"",
                    );
                    Vec::new()
                }
            },
        };
        let mut hhmm = |v: &Option<Spanned<String>>, field: &str, default: u32| match v {
            None => default,
            Some(s) => match parse_hhmm(s.get_ref()) {
                Some(m) => m,
                None => {
                    cx.error(
                        s.span(),
                        &f(field),
                        format!("cannot read the time {:?}", s.get_ref()),
                        "write local 24-hour time as \"HH:MM\" (\"24:00\" = end of day)",
                    );
                    default
                }
            },
        };
        let from = hhmm(&sc.from, "from", 0);
        let to = hhmm(&sc.to, "to", 24 * 60);
        let screens = cx.screens(&sc.screens, &f("screens"), rotate, sc.name.span());
        scenes.push(Scene {
            name: sc.name.get_ref().trim().to_string(),
            days,
            from_minute: from,
            to_minute: to,
            screens,
        });
    }
    if !scenes.is_empty() && raw.timezone.is_none() {
        cx.warn(
            0..0,
            "timezone",
            "scenes are read in UTC because the profile has no `timezone`".into(),
            "add timezone = \"Europe/Berlin\" (the site's IANA zone)",
        );
    }
    let problems = cx.problems;
    if problems.iter().any(|p| !p.warning) {
        return fallback(problems);
    }
    Checked {
        profile: WallProfile {
            name,
            timezone: raw.timezone.map(|t| t.into_inner().trim().to_string()),
            rotate_seconds: rotate,
            stale_after_seconds: stale,
            theme,
            zoom,
            monitors: raw.monitors,
            takeover,
            showcase,
            sites,
            screens,
            scenes,
            active_scene: None,
        },
        problems,
        fallback: false,
    }
}

fn fallback(problems: Vec<Problem>) -> Checked {
    Checked {
        profile: WallProfile::default(),
        problems,
        fallback: true,
    }
}

impl Default for WallProfile {
    /// The embedded `assets/walls/default.toml`.
    fn default() -> Self {
        let checked = check(DEFAULT_PROFILE_TOML);
        debug_assert!(checked.is_ok(), "{:?}", checked.problems);
        if checked.fallback {
            // Unreachable while the unit test pins the embedded default as valid; never loop.
            return WallProfile::minimal();
        }
        checked.profile
    }
}

impl WallProfile {
    /// Three screens (volume, sentiment, stream): what a wall shows when nothing else is usable.
    fn minimal() -> WallProfile {
        let screen = |index: usize, title: &str, view: &str| Screen {
            index,
            title: title.into(),
            views: vec![view.into()],
            ..Default::default()
        };
        WallProfile {
            name: "default".into(),
            timezone: None,
            rotate_seconds: DEFAULT_ROTATE_SECONDS,
            stale_after_seconds: DEFAULT_STALE_AFTER_SECONDS,
            theme: Theme::Dark,
            zoom: 1.0,
            monitors: MonitorPolicy::default(),
            takeover: Takeover::default(),
            showcase: ShowcaseSettings::default(),
            sites: Vec::new(),
            screens: vec![
                screen(0, "Volume", "volume"),
                screen(1, "Sentiment", "sentiment"),
                screen(2, "Live stream", "stream"),
            ],
            scenes: Vec::new(),
            active_scene: None,
        }
    }

    /// Parses a profile; any error (with its line) is returned instead of a fallback.
    pub fn from_toml(text: &str) -> Result<WallProfile, WallError> {
        let c = check(text);
        if c.is_ok() {
            Ok(c.profile)
        } else {
            Err(WallError::Invalid(
                c.errors()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ))
        }
    }

    /// Reads a profile file; a broken profile is an error.
    pub fn load(path: &Path) -> Result<WallProfile, WallError> {
        WallProfile::from_toml(&read(path)?)
    }

    /// Reads a profile file for a wall that must start: problems are logged and the safe
    /// default layout stands in for a broken profile.
    pub fn load_or_fallback(path: &Path) -> Checked {
        match read(path) {
            Ok(text) => {
                let c = check(&text);
                for p in &c.problems {
                    tracing::warn!(profile = %path.display(), "{p}");
                }
                if c.fallback {
                    tracing::warn!(profile = %path.display(), "the wall shows the safe default layout until the profile is fixed");
                }
                c
            }
            Err(e) => {
                tracing::warn!("{e}; the wall shows the safe default layout");
                fallback(vec![Problem {
                    line: 0,
                    field: String::new(),
                    message: e.to_string(),
                    fix: "check the path and the file's permissions".into(),
                    warning: false,
                }])
            }
        }
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

    /// Every playlist item of the profile once, in screen order.
    pub fn all_items(&self) -> Vec<Item> {
        let mut out: Vec<Item> = Vec::new();
        for s in &self.screens {
            for item in s.items(self.rotate_seconds) {
                if !out.iter().any(|o| o.same_content(&item)) {
                    out.push(Item {
                        dwell: if s.rotate_seconds > 0 || !s.playlist.is_empty() {
                            item.dwell
                        } else {
                            self.rotate_seconds
                        },
                        ..item
                    });
                }
            }
        }
        out
    }

    /// The time zone of the scenes (UTC when absent or unknown).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(chrono_tz::UTC)
    }
}

impl Screen {
    /// What the screen shows in turn: its playlist, or its views with `rotate_seconds` each
    /// (`default_dwell` when the screen does not rotate).
    pub fn items(&self, default_dwell: u32) -> Vec<Item> {
        if !self.playlist.is_empty() {
            return self.playlist.clone();
        }
        let dwell = if self.rotate_seconds > 0 {
            self.rotate_seconds
        } else {
            default_dwell
        };
        self.views
            .iter()
            .map(|v| Item {
                view: v.clone(),
                dwell,
                topic: None,
                channel: None,
                caption: None,
            })
            .collect()
    }
}

/// Adds `extra` to `items`, skipping what is already there (same view, topic and channel).
pub(crate) fn merge_items(items: &mut Vec<Item>, extra: Vec<Item>) {
    for e in extra {
        if !items.iter().any(|i| i.same_content(&e)) {
            items.push(e);
        }
    }
}

fn read(path: &Path) -> Result<String, WallError> {
    std::fs::read_to_string(path).map_err(|source| WallError::Read {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profile_parses_and_has_the_three_core_views() {
        let c = check(DEFAULT_PROFILE_TOML);
        assert!(c.is_ok(), "{:?}", c.problems);
        let p = c.profile;
        assert_eq!(p.name, "default");
        assert_eq!(p.screens.len(), 3);
        assert_eq!(p.all_views(), ["volume", "sentiment", "stream"]);
        assert_eq!(p.monitors.missing, MissingMonitors::Merge);
        assert_eq!(p.monitors.surplus, SurplusMonitors::RotateAll);
    }

    #[test]
    fn shipped_profiles_are_valid() {
        for (name, text) in super::super::registry::BUILT_IN {
            let c = check(text);
            assert!(c.problems.is_empty(), "{name}: {:?}", c.problems);
            assert_eq!(&c.profile.name, name);
        }
    }

    #[test]
    fn screens_are_sorted_by_index_and_defaults_apply() {
        let p = WallProfile::from_toml(
            r#"
            name = "x"
            [[screens]]
            index = 1
            views = ["sentiment"]
            [[screens]]
            index = 0
            title = "A"
            views = ["volume", "stream"]
            rotate_seconds = 10
            "#,
        )
        .unwrap();
        assert_eq!(p.screens[0].title, "A");
        assert_eq!(p.screens[1].views, ["sentiment"]);
        assert_eq!(p.screens[1].rotate_seconds, 0);
        assert_eq!(p.rotate_seconds, DEFAULT_ROTATE_SECONDS);
        assert_eq!(p.stale_after_seconds, 120);
        assert_eq!(p.monitors, MonitorPolicy::default());
        assert_eq!(p.takeover.severity.as_deref(), Some("crisis"));
        assert_eq!(p.showcase.delay_minutes, 5);
    }

    #[test]
    fn playlists_keep_per_item_dwell_and_fill_views() {
        let p = WallProfile::from_toml(
            r#"
            name = "x"
            rotate_seconds = 15
            [[screens]]
            index = 0
            zoom = 1.5
            theme = "contrast"
            monitor = "DP-2"
            [[screens.playlist]]
            view = "volume"
            dwell = 40
            [[screens.playlist]]
            view = "stream"
            topic = "outage"
            [[screens.playlist]]
            view = "stream"
            dwell = 5
            "#,
        )
        .unwrap();
        let s = &p.screens[0];
        assert_eq!(s.views, ["volume", "stream"]);
        let dwell: Vec<u32> = s.items(99).iter().map(|i| i.dwell).collect();
        assert_eq!(dwell, [40, 15, 5]);
        assert_eq!(s.playlist[1].topic.as_deref(), Some("outage"));
        assert_eq!(s.zoom, Some(1.5));
        assert_eq!(s.theme, Some(Theme::Contrast));
        assert_eq!(s.monitor.as_deref(), Some("DP-2"));
    }

    fn problems(text: &str) -> Vec<Problem> {
        let c = check(text);
        assert!(c.fallback, "expected a fallback for {text}");
        assert_eq!(c.profile, WallProfile::default());
        c.problems
    }

    fn one(text: &str) -> Problem {
        let p: Vec<Problem> = problems(text).into_iter().filter(|p| !p.warning).collect();
        assert_eq!(p.len(), 1, "{p:?}");
        p.into_iter().next().unwrap()
    }

    #[test]
    fn bad_input_names_the_line_field_and_fix_and_falls_back() {
        let p = one("name = \"x\"\n[[screens]]\nindex = 0\nviews = [\"volume\", \"sparkles\"]\nrotate_seconds = 5\n");
        assert_eq!((p.line, p.field.as_str()), (4, "screens[0].views[1]"));
        assert!(p.message.contains("sparkles"), "{p}");
        assert!(p.fix.contains("known views"), "{p}");

        let p = one("name = \"x\"\n[[screens]]\nindex = 0\n[[screens.playlist]]\nview = \"volume\"\ndwell = 0\n");
        assert_eq!(
            (p.line, p.field.as_str()),
            (6, "screens[0].playlist[0].dwell")
        );
        assert!(p.fix.contains("1 to 86400"), "{p}");

        let p = one("name = \"x\"\n[[screens]]\nindex = 0\nviews = [\"volume\"]\nzoom = -1.5\n");
        assert_eq!((p.line, p.field.as_str()), (5, "screens[0].zoom"));

        let p = one("name = \"x\"\n[[screens]]\nindex = 0\nviews = [\"volume\"]\ncolour = 1\n");
        assert_eq!(p.line, 5);
        assert!(p.message.contains("colour"), "{p}");

        let p = one("name = \"x\"\nscreens = []\n");
        assert!(p.message.contains("no screens"), "{p}");

        let p = one("name = \"x\"\n[[screens]]\nindex = 1\nviews = [\"volume\"]\n");
        assert!(p.message.contains("expected 0"), "{p}");

        let p = one("name = \"x\"\n[[screens]]\nindex = 0\nviews = [\"volume\", \"stream\"]\n");
        assert_eq!(p.field, "screens[0].rotate_seconds");

        let p = one("name = \"x\"\n[[screens]]\nindex = 0\nviews = [\"volume\", \"volume\"]\nrotate_seconds = 5\n");
        assert!(p.message.contains("twice"), "{p}");

        let p = one("name = \"x\"\n[monitors]\nmissing = \"explode\"\n[[screens]]\nindex = 0\nviews = [\"volume\"]\n");
        assert_eq!(p.line, 3, "{p}");

        let p = one("name = \"x\"\ntimezone = \"Mars/Olympus\"\n[[screens]]\nindex = 0\nviews = [\"volume\"]\n");
        assert_eq!((p.line, p.field.as_str()), (2, "timezone"));

        let p = one("name = \"x\"\n[[screens]]\nindex = 0\nviews = [\"volume\"]\n[[scenes]]\nname = \"n\"\ndays = [\"funday\"]\n[[scenes.screens]]\nindex = 0\nviews = [\"stream\"]\n");
        assert_eq!(p.field, "scenes[0].days");
        assert_eq!(p.line, 7);

        // Several problems are all reported.
        let ps = problems("name = \"\"\nzoom = 0\n[[screens]]\nindex = 0\nviews = [\"nope\"]\n");
        assert_eq!(ps.len(), 3, "{ps:?}");
        let text = ps
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains("line 2: error: `zoom`"), "{text}");
    }

    #[test]
    fn broken_toml_names_the_line() {
        let p = one("name = \"x\"\n[[screens]\nindex = 0\n");
        assert_eq!(p.line, 2, "{p}");
        let e = WallProfile::from_toml("name = \"x\"\n[[screens]\nindex = 0\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
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

    #[test]
    fn severities_rank() {
        assert!(severity_rank("crisis") > severity_rank("warning"));
        assert!(severity_rank("warning") > severity_rank("watch"));
        assert_eq!(severity_rank("bogus"), -1);
    }
}
