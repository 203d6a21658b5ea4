//! Crisis drills: scenario files (`assets/drills/*.toml`) describe posts injected over time on
//! top of a generated background. A drill runs through the real ingest, detectors, alerts and
//! escalation, marked DRILL everywhere: its mentions have source `drill:<run>`, its alerts
//! `drill = 1` and `drill_run = <run>`. Afterwards a report for executives (see [`report`]).
//!
//! Keeping drills out of real figures: rollups (walls) include drill mentions so the wall shows
//! the drill as it would look; every KPI, case or export must exclude
//! `source LIKE 'drill:%'` mentions and `drill = 1` alerts (cases carry their own drill flag).

pub mod api;
pub mod report;
pub mod runner;

use std::path::Path;

use serde::Deserialize;

/// The scenarios shipped with Sunward: (file name, text).
pub const SHIPPED: [(&str, &str); 4] = [
    (
        "storm-night.toml",
        include_str!("../../assets/drills/storm-night.toml"),
    ),
    (
        "recall-long-weekend.toml",
        include_str!("../../assets/drills/recall-long-weekend.toml"),
    ),
    (
        "executive-arrested.toml",
        include_str!("../../assets/drills/executive-arrested.toml"),
    ),
    (
        "data-breach-rumor.toml",
        include_str!("../../assets/drills/data-breach-rumor.toml"),
    ),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub summary: String,
    pub duration_minutes: i64,
    #[serde(default)]
    pub background: Background,
    #[serde(default)]
    pub targets: Targets,
    #[serde(default)]
    pub inject: Vec<Inject>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Background {
    /// Days of history taught to the detector's baseline before the drill starts.
    #[serde(default = "default_history")]
    pub history_days: i64,
    /// Mean stories per hour per topic (follows a daily curve).
    #[serde(default)]
    pub per_hour: std::collections::BTreeMap<String, f64>,
}

fn default_history() -> i64 {
    7
}

impl Default for Background {
    fn default() -> Self {
        Background {
            history_days: 7,
            per_hour: Default::default(),
        }
    }
}

/// Targets (minutes from the first injected post).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targets {
    pub detect_minutes: i64,
    pub ack_minutes: i64,
    pub first_response_minutes: i64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            detect_minutes: 10,
            ack_minutes: 15,
            first_response_minutes: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    /// Offset from the drill's start, `hh:mm`.
    pub at: toml::Spanned<String>,
    /// Spread the posts until this offset (default: all at `at`).
    #[serde(default)]
    pub until: Option<String>,
    pub count: u32,
    pub topic: toml::Spanned<String>,
    #[serde(default = "default_channel")]
    pub channel: String,
    /// Texts to vary (each post combines one with details, so posts are distinct stories).
    pub texts: Vec<String>,
    #[serde(default)]
    pub followers: u64,
    /// Reposts of the first text per post (a viral story: one story, large reach).
    #[serde(default)]
    pub reposts: u32,
    /// Author handle for single posts (an influencer, a journalist).
    #[serde(default)]
    pub author: Option<String>,
}

fn default_channel() -> String {
    "x".into()
}

/// A parsed injection with offsets in minutes.
#[derive(Debug, Clone)]
pub struct Step {
    pub from_min: i64,
    pub until_min: i64,
    pub inject: Inject,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read the scenario {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{file}: {detail}")]
    Invalid { file: String, detail: String },
    #[error("{file} line {line}: {detail}")]
    Line {
        file: String,
        line: usize,
        detail: String,
    },
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn hhmm(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h >= 0 && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// Parses and checks a scenario: times `hh:mm`, in order, inside the duration; topics known
/// (`known_topics` from the config; empty = no check). Errors name the line.
pub fn parse(
    text: &str,
    file: &str,
    known_topics: &[String],
) -> Result<(Scenario, Vec<Step>), ScenarioError> {
    let sc: Scenario = toml::from_str(text).map_err(|e| match e.span() {
        Some(sp) => ScenarioError::Line {
            file: file.into(),
            line: line_of(text, sp.start),
            detail: e.message().to_string(),
        },
        None => ScenarioError::Invalid {
            file: file.into(),
            detail: e.to_string(),
        },
    })?;
    let at_line = |sp: std::ops::Range<usize>, detail: String| ScenarioError::Line {
        file: file.into(),
        line: line_of(text, sp.start),
        detail,
    };
    if !(1..=24 * 60).contains(&sc.duration_minutes) {
        return Err(ScenarioError::Invalid {
            file: file.into(),
            detail: format!(
                "duration_minutes must be 1..1440, got {}",
                sc.duration_minutes
            ),
        });
    }
    for t in sc.background.per_hour.keys() {
        if !known_topics.is_empty() && !known_topics.contains(t) {
            return Err(ScenarioError::Invalid {
                file: file.into(),
                detail: format!(
                    "background topic `{t}` is not a configured topic ({})",
                    known_topics.join(", ")
                ),
            });
        }
    }
    let mut steps = Vec::new();
    let mut last = 0;
    for i in &sc.inject {
        let from = hhmm(i.at.get_ref()).ok_or_else(|| {
            at_line(
                i.at.span(),
                format!("at = \"{}\" is not hh:mm", i.at.get_ref()),
            )
        })?;
        if from < last {
            return Err(at_line(
                i.at.span(),
                format!(
                    "at = \"{}\" is earlier than the step before it; list steps in time order",
                    i.at.get_ref()
                ),
            ));
        }
        last = from;
        let until = match &i.until {
            Some(u) => hhmm(u).filter(|u| *u > from).ok_or_else(|| {
                at_line(
                    i.at.span(),
                    format!("until = \"{u}\" must be hh:mm after at"),
                )
            })?,
            None => from + 1,
        };
        if until > sc.duration_minutes {
            return Err(at_line(
                i.at.span(),
                format!(
                    "this step ends after duration_minutes = {}",
                    sc.duration_minutes
                ),
            ));
        }
        let topic = i.topic.get_ref();
        if !known_topics.is_empty() && !known_topics.contains(topic) {
            return Err(at_line(
                i.topic.span(),
                format!(
                    "topic `{topic}` is not a configured topic ({})",
                    known_topics.join(", ")
                ),
            ));
        }
        if i.texts.is_empty() {
            return Err(at_line(
                i.at.span(),
                "texts must hold at least one text".into(),
            ));
        }
        steps.push(Step {
            from_min: from,
            until_min: until,
            inject: i.clone(),
        });
    }
    Ok((sc, steps))
}

/// Reads a scenario by path, or by the name of a shipped one (`storm-night`).
pub fn load(
    name_or_path: &str,
    known_topics: &[String],
) -> Result<(Scenario, Vec<Step>, String), ScenarioError> {
    let p = Path::new(name_or_path);
    if p.is_file() {
        let text =
            std::fs::read_to_string(p).map_err(|e| ScenarioError::Read(name_or_path.into(), e))?;
        let (s, st) = parse(&text, name_or_path, known_topics)?;
        return Ok((s, st, name_or_path.to_string()));
    }
    let want = name_or_path.trim_end_matches(".toml");
    let want = want.rsplit('/').next().unwrap_or(want);
    match SHIPPED
        .iter()
        .find(|(f, _)| f.trim_end_matches(".toml") == want)
    {
        Some((f, text)) => {
            let file = format!("assets/drills/{f}");
            let (s, st) = parse(text, &file, known_topics)?;
            Ok((s, st, file))
        }
        None => Err(ScenarioError::Read(
            name_or_path.into(),
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file or shipped scenario; see `sunward drill list`",
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> Vec<String> {
        ["delays", "baggage", "refunds", "app", "crew"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn shipped_scenarios_parse() {
        for (f, text) in SHIPPED {
            let (s, steps) = parse(text, f, &topics()).unwrap_or_else(|e| panic!("{e}"));
            assert!(!steps.is_empty(), "{f}");
            assert!(s.duration_minutes > 0);
        }
    }

    #[test]
    fn unknown_topic_is_rejected_with_its_line() {
        let text = "name = \"x\"\nduration_minutes = 60\n\n[[inject]]\nat = \"00:05\"\ncount = 3\ntopic = \"weather\"\ntexts = [\"a\"]\n";
        let e = parse(text, "x.toml", &topics()).unwrap_err().to_string();
        assert!(e.contains("line 7") && e.contains("weather"), "{e}");
    }

    #[test]
    fn times_out_of_order_are_rejected_with_their_line() {
        let text = "name = \"x\"\nduration_minutes = 60\n[[inject]]\nat = \"00:20\"\ncount = 3\ntopic = \"delays\"\ntexts = [\"a\"]\n[[inject]]\nat = \"00:10\"\ncount = 3\ntopic = \"delays\"\ntexts = [\"a\"]\n";
        let e = parse(text, "x.toml", &topics()).unwrap_err().to_string();
        assert!(e.contains("line 9") && e.contains("time order"), "{e}");
    }
}
