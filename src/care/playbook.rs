//! The triage playbook: sites, tracks with SLAs, and ordered if/then rules (TOML, see
//! `assets/playbook.toml` and docs/care.md). [`check`] validates a text and returns every
//! problem with its line; a playbook that does not check is never put in force.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::calendar::{Site, SiteSpec};
use crate::model::Label;

/// The built-in default playbook.
pub const DEFAULT: &str = include_str!("../../assets/playbook.toml");

/// Reasons a mention is not answered (the usual social-care triage charts).
pub const DNR_REASONS: [&str; 6] = [
    "venting",
    "spam",
    "troll",
    "competitor",
    "not_about_us",
    "legal_hold",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line in the playbook text (0 = the file as a whole).
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Every problem of a playbook, one per line of the message.
pub fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    /// Follow-ups from the same author within this many hours join their open case.
    #[serde(default)]
    attach_within_hours: Option<u32>,
    /// Replies granting more than this (currency units) need an approval.
    #[serde(default)]
    approval_above: Option<f64>,
    /// Grants above this need a second, different approver.
    #[serde(default)]
    second_approval_above: Option<f64>,
    /// A resolved case asks for satisfaction this many hours later (status follow_up_due).
    #[serde(default)]
    follow_up_after_hours: Option<u32>,
    #[serde(default, rename = "site")]
    sites: Vec<Spanned<SiteSpec>>,
    #[serde(default, rename = "track")]
    tracks: Vec<Spanned<TrackSpec>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RuleSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackSpec {
    name: String,
    site: Option<String>,
    first_response_minutes: Option<u32>,
    next_response_minutes: Option<u32>,
    resolution_minutes: Option<u32>,
    #[serde(default)]
    warn_before_minutes: Option<u32>,
    /// An assignee silent this long (wall minutes) loses the case to another agent.
    #[serde(default)]
    reroute_after_minutes: Option<u32>,
    #[serde(default)]
    template: String,
    #[serde(default)]
    private_reply: bool,
    #[serde(default)]
    needs_approval: bool,
    #[serde(default)]
    approver_roles: Vec<String>,
    #[serde(default)]
    skills: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Any of these labels.
    pub sentiment: Option<Vec<String>>,
    /// Sentiment score at most this (-1..1).
    pub max_score: Option<f32>,
    /// Any of these words or phrases in the text (case-insensitive).
    pub keywords: Option<Vec<String>>,
    /// None of these in the text.
    pub unless_keywords: Option<Vec<String>>,
    pub topics: Option<Vec<String>>,
    pub lang: Option<Vec<String>>,
    pub channel: Option<Vec<String>>,
    pub min_followers: Option<u64>,
    pub min_influence: Option<u8>,
    pub verified: Option<bool>,
    /// The author had a case before.
    pub known_customer: Option<bool>,
    /// The mention replies to another post.
    pub is_reply: Option<bool>,
    /// The mention was posted at least this long before triage saw it (a backfill or a
    /// replay of old posts: watch instead of opening cases that were due long ago).
    pub older_than_minutes: Option<u32>,
    /// Matches this share of mentions, chosen by a hash of the mention's id (the same mention
    /// always falls the same way): "answer a sample of the praise", or thinning a firehose.
    pub sample_percent: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Then {
    /// Open a case on `track`.
    Open,
    /// Join the open case of the same conversation or author; if there is none, the next rule
    /// decides.
    Attach,
    DoNotRespond,
    Watch,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    #[serde(default, rename = "if")]
    when: Conditions,
    then: Then,
    track: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Track {
    pub name: String,
    pub site: String,
    pub first_response_ms: i64,
    pub next_response_ms: i64,
    pub resolution_ms: i64,
    pub warn_before_ms: i64,
    pub reroute_after_ms: i64,
    pub template: String,
    pub private_reply: bool,
    pub needs_approval: bool,
    pub approver_roles: Vec<String>,
    pub skills: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub line: usize,
    pub when: Conditions,
    pub then: Then,
    pub track: Option<String>,
    pub reason: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Playbook {
    pub attach_within_ms: i64,
    pub approval_above: f64,
    pub second_approval_above: f64,
    pub follow_up_after_ms: i64,
    pub sites: BTreeMap<String, Site>,
    pub tracks: Vec<Track>,
    pub rules: Vec<Rule>,
}

/// What triage knows about a mention when it applies the rules.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub text: String,
    pub label: Option<Label>,
    pub score: f32,
    pub lang: String,
    pub channel: String,
    pub topics: Vec<String>,
    pub followers: u64,
    pub influence: u8,
    pub verified: bool,
    pub known_customer: bool,
    pub is_reply: bool,
    /// How long ago the mention was posted when triage saw it (ms).
    pub age_ms: i64,
    /// 0..99, from a hash of the mention's id (see [`sample_bucket`]).
    pub sample: u8,
}

/// A stable bucket 0..99 for `id` (FNV-1a), for `sample_percent`.
pub fn sample_bucket(id: &str) -> u8 {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    (h % 100) as u8
}

const MIN: i64 = 60_000;

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Validates a playbook text: syntax, unknown fields, tracks without SLA, unknown tracks,
/// sites and reasons, unreachable rules. All problems are returned, each with its line.
pub fn check(text: &str) -> Result<Playbook, Vec<Problem>> {
    let spec: FileSpec = match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            return Err(vec![Problem {
                line,
                message: e.message().trim().to_string(),
            }]);
        }
    };
    let mut problems = Vec::new();
    let mut bad = |line: usize, message: String| problems.push(Problem { line, message });

    let mut sites = BTreeMap::new();
    for s in &spec.sites {
        let line = line_of(text, s.span().start);
        match Site::from_spec(s.get_ref()) {
            Ok(site) => {
                if sites.insert(site.name.clone(), site).is_some() {
                    bad(
                        line,
                        format!("site `{}` is defined twice", s.get_ref().name),
                    );
                }
            }
            Err(e) => bad(line, e),
        }
    }

    let mut tracks = Vec::new();
    let mut names = HashSet::new();
    for t in &spec.tracks {
        let line = line_of(text, t.span().start);
        let t = t.get_ref();
        if !names.insert(t.name.clone()) {
            bad(line, format!("track `{}` is defined twice", t.name));
        }
        let (Some(first), Some(resolution)) = (t.first_response_minutes, t.resolution_minutes)
        else {
            bad(line, format!(
                "track `{}` has no SLA: give first_response_minutes and resolution_minutes (next_response_minutes defaults to first_response_minutes)",
                t.name
            ));
            continue;
        };
        if first == 0 || resolution < first {
            bad(line, format!(
                "track `{}`: first_response_minutes must be above 0 and resolution_minutes at least as long",
                t.name
            ));
        }
        let site = t.site.clone().unwrap_or_else(|| "default".to_string());
        if t.site.is_some() && !sites.contains_key(&site) {
            bad(line, format!(
                "track `{}` names site `{site}`, which is not defined; add a [[site]] with that name",
                t.name
            ));
        }
        for r in &t.approver_roles {
            if r.parse::<crate::auth::Role>().is_err() || r == "wall" || r == "agent" {
                bad(line, format!(
                    "track `{}`: approver role `{r}` cannot approve; use lead, legal, exec or admin",
                    t.name
                ));
            }
        }
        if t.needs_approval && t.approver_roles.is_empty() {
            bad(
                line,
                format!(
                    "track `{}` needs approval but names no approver_roles (e.g. [\"legal\"])",
                    t.name
                ),
            );
        }
        tracks.push(Track {
            name: t.name.clone(),
            site,
            first_response_ms: first as i64 * MIN,
            next_response_ms: t.next_response_minutes.unwrap_or(first) as i64 * MIN,
            resolution_ms: resolution as i64 * MIN,
            warn_before_ms: t.warn_before_minutes.unwrap_or(first.min(30) / 2 + 1) as i64 * MIN,
            reroute_after_ms: t.reroute_after_minutes.unwrap_or(first.div_ceil(2)) as i64 * MIN,
            template: t.template.clone(),
            private_reply: t.private_reply,
            needs_approval: t.needs_approval,
            approver_roles: t.approver_roles.clone(),
            skills: t.skills.clone(),
        });
    }

    let mut rules: Vec<Rule> = Vec::new();
    for r in &spec.rules {
        let line = line_of(text, r.span().start);
        let r = r.get_ref();
        match (r.then, &r.track) {
            (Then::Open, None) => bad(
                line,
                format!("rule `{}` opens a case but names no track", r.name),
            ),
            (_, Some(t)) if !names.contains(t) => bad(
                line,
                format!("rule `{}` names track `{t}`, which is not defined", r.name),
            ),
            _ => {}
        }
        match (r.then, r.reason.as_deref()) {
            (Then::DoNotRespond, None) => bad(
                line,
                format!(
                    "rule `{}` is do_not_respond without a reason; use one of {}",
                    r.name,
                    DNR_REASONS.join(", ")
                ),
            ),
            (Then::DoNotRespond, Some(x)) if !DNR_REASONS.contains(&x) => bad(
                line,
                format!(
                    "rule `{}`: unknown reason `{x}`; use one of {}",
                    r.name,
                    DNR_REASONS.join(", ")
                ),
            ),
            _ => {}
        }
        let w = &r.when;
        for (field, list) in [
            ("sentiment", &w.sentiment),
            ("keywords", &w.keywords),
            ("unless_keywords", &w.unless_keywords),
            ("topics", &w.topics),
            ("lang", &w.lang),
            ("channel", &w.channel),
        ] {
            if list
                .as_ref()
                .is_some_and(|l| l.is_empty() || l.iter().any(|s| s.trim().is_empty()))
            {
                bad(line, format!("rule `{}`: `{field}` has an empty entry or is empty, so it matches nothing", r.name));
            }
        }
        if w.sample_percent.is_some_and(|p| p > 100) {
            bad(
                line,
                format!("rule `{}`: sample_percent must be 0 to 100", r.name),
            );
        }
        if let Some(s) = &w.sentiment {
            for l in s {
                if Label::parse(l).is_none() {
                    bad(
                        line,
                        format!(
                            "rule `{}`: sentiment `{l}` is not negative, neutral or positive",
                            r.name
                        ),
                    );
                }
            }
        }
        if let Some(e) = rules
            .iter()
            .find(|e| e.then != Then::Attach && covers(&e.when, w))
        {
            bad(line, format!(
                "rule `{}` is unreachable: rule `{}` (line {}) matches everything it matches and decides first",
                r.name, e.name, e.line
            ));
        }
        rules.push(Rule {
            name: r.name.clone(),
            line,
            when: r.when.clone(),
            then: r.then,
            track: r.track.clone(),
            reason: r.reason.clone(),
            tags: r.tags.clone(),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if !sites.contains_key("default") && tracks.iter().any(|t| t.site == "default") {
        sites.insert("default".to_string(), Site::always_open("default"));
    }
    Ok(Playbook {
        attach_within_ms: spec.attach_within_hours.unwrap_or(24) as i64 * 60 * MIN,
        approval_above: spec.approval_above.unwrap_or(50.0),
        second_approval_above: spec.second_approval_above.unwrap_or(200.0),
        follow_up_after_ms: spec.follow_up_after_hours.unwrap_or(24) as i64 * 60 * MIN,
        sites,
        tracks,
        rules,
    })
}

fn lower(v: &[String]) -> Vec<String> {
    v.iter().map(|s| s.trim().to_lowercase()).collect()
}

/// Does every mention matching `b` also match `a`? (`a` is at least as general.)
fn covers(a: &Conditions, b: &Conditions) -> bool {
    fn subset(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
        match (a, b) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => {
                let a = lower(a);
                lower(b).iter().all(|x| a.contains(x))
            }
        }
    }
    fn eq<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
        a.is_none() || a == b
    }
    let unless = match (&a.unless_keywords, &b.unless_keywords) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(x), Some(y)) => {
            let y = lower(y);
            lower(x).iter().all(|k| y.contains(k))
        }
    };
    subset(&a.sentiment, &b.sentiment)
        && subset(&a.keywords, &b.keywords)
        && subset(&a.topics, &b.topics)
        && subset(&a.lang, &b.lang)
        && subset(&a.channel, &b.channel)
        && unless
        && match (a.max_score, b.max_score) {
            (None, _) => true,
            (Some(x), Some(y)) => y <= x,
            _ => false,
        }
        && match (a.min_followers, b.min_followers) {
            (None, _) => true,
            (Some(x), Some(y)) => y >= x,
            _ => false,
        }
        && match (a.min_influence, b.min_influence) {
            (None, _) => true,
            (Some(x), Some(y)) => y >= x,
            _ => false,
        }
        && match (a.older_than_minutes, b.older_than_minutes) {
            (None, _) => true,
            (Some(x), Some(y)) => y >= x,
            _ => false,
        }
        && match (a.sample_percent, b.sample_percent) {
            (None, _) => true,
            (Some(x), Some(y)) => y <= x,
            _ => false,
        }
        && eq(&a.verified, &b.verified)
        && eq(&a.known_customer, &b.known_customer)
        && eq(&a.is_reply, &b.is_reply)
}

fn contains_any(text: &str, words: &[String]) -> bool {
    words
        .iter()
        .any(|w| text.contains(&w.trim().to_lowercase()))
}

impl Conditions {
    pub fn matches(&self, f: &Facts) -> bool {
        let text = f.text.to_lowercase();
        let any_eq = |list: &Option<Vec<String>>, v: &str| {
            list.as_ref()
                .map_or(true, |l| l.iter().any(|x| x.trim().eq_ignore_ascii_case(v)))
        };
        self.sentiment.as_ref().map_or(true, |l| {
            f.label
                .is_some_and(|lab| l.iter().any(|x| Label::parse(x) == Some(lab)))
        }) && self.max_score.map_or(true, |m| f.score <= m)
            && self
                .keywords
                .as_ref()
                .map_or(true, |k| contains_any(&text, k))
            && self
                .unless_keywords
                .as_ref()
                .map_or(true, |k| !contains_any(&text, k))
            && self.topics.as_ref().map_or(true, |l| {
                l.iter()
                    .any(|t| f.topics.iter().any(|x| x.eq_ignore_ascii_case(t.trim())))
            })
            && any_eq(&self.lang, &f.lang)
            && any_eq(&self.channel, &f.channel)
            && self.min_followers.map_or(true, |m| f.followers >= m)
            && self.min_influence.map_or(true, |m| f.influence >= m)
            && self.verified.map_or(true, |v| f.verified == v)
            && self.known_customer.map_or(true, |v| f.known_customer == v)
            && self.is_reply.map_or(true, |v| f.is_reply == v)
            && self
                .older_than_minutes
                .map_or(true, |m| f.age_ms >= m as i64 * MIN)
            && self.sample_percent.map_or(true, |p| f.sample < p)
    }
}

impl Playbook {
    pub fn track(&self, name: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.name == name)
    }

    pub fn site_of(&self, track: &Track) -> Site {
        self.sites
            .get(&track.site)
            .cloned()
            .unwrap_or_else(|| Site::always_open(&track.site))
    }

    /// The first rule that decides for `facts`; attach rules only count when `can_attach`
    /// (an open case of the same conversation or author exists).
    pub fn decide(&self, facts: &Facts, can_attach: bool) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|r| can_attach || r.then != Then::Attach)
            .find(|r| r.when.matches(facts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_playbook_checks() {
        let pb = check(DEFAULT).unwrap_or_else(|p| panic!("{}", describe(&p)));
        assert!(pb.tracks.len() >= 4);
        assert!(pb.rules.len() >= 6);
    }

    #[test]
    fn syntax_errors_and_unknown_fields_have_lines() {
        let e = check("[[track]]\nname = \"a\"\nfirst_response_minutes = \n").unwrap_err();
        assert_eq!(e[0].line, 3, "{e:?}");
        let e = check("[[track]]\nname = \"a\"\nfirst_responce_minutes = 5\n").unwrap_err();
        assert_eq!(e[0].line, 3, "{e:?}");
        assert!(e[0].message.contains("first_responce_minutes"), "{e:?}");
    }

    #[test]
    fn track_without_sla_and_unreachable_rule() {
        let text = r#"
[[track]]
name = "standard"
first_response_minutes = 60
resolution_minutes = 600

[[track]]
name = "nosla"

[[rule]]
name = "angry"
if = { sentiment = ["negative"] }
then = "open"
track = "standard"

[[rule]]
name = "angry about refunds"
if = { sentiment = ["negative"], keywords = ["refund"] }
then = "open"
track = "standard"
"#;
        let e = check(text).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].line, 7);
        assert!(e[0].message.contains("no SLA"));
        assert_eq!(e[1].line, 16);
        assert!(e[1].message.contains("unreachable"), "{e:?}");
    }

    #[test]
    fn narrower_rule_first_is_fine_and_rules_match() {
        let text = r#"
[[track]]
name = "t"
first_response_minutes = 60
resolution_minutes = 600
[[rule]]
name = "refund"
if = { keywords = ["refund"], sentiment = ["negative"] }
then = "open"
track = "t"
[[rule]]
name = "spam"
if = { keywords = ["crypto"] }
then = "do_not_respond"
reason = "spam"
[[rule]]
name = "rest"
then = "watch"
"#;
        let pb = check(text).unwrap_or_else(|p| panic!("{}", describe(&p)));
        let f = Facts {
            text: "I want my REFUND".into(),
            label: Some(Label::Negative),
            ..Facts::default()
        };
        assert_eq!(pb.decide(&f, false).unwrap().name, "refund");
        let f = Facts {
            text: "free crypto".into(),
            ..Facts::default()
        };
        assert_eq!(pb.decide(&f, false).unwrap().name, "spam");
    }
}
