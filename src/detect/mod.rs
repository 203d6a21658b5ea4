//! Crisis detection on event time, per topic and per channel: volume spikes against a
//! time-of-day/day-of-week baseline, negative-share shifts, influencer complaints and crisis
//! terms. Story clustering comes first: volume is counted in stories, so reposts add reach, not
//! volume.
//!
//! [`Detector`] is a pure engine (no I/O, no clock): mentions in, [`Signal`]s out. It advances
//! minute by minute on a watermark (newest event time seen minus `lateness_minutes`), so a
//! historical file ingested at full speed yields the signals it would have yielded live.
//! `src/alerts` turns signals into alerts (merging, cooldown, lifecycle).
//!
//! Drill mentions (source `drill:<run>`) are counted apart: they never teach the baseline, and a
//! signal that would not fire on real mentions alone is marked `drill`.

pub mod baseline;
pub mod story;

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::Label;
use crate::store::NewMention;
use baseline::{Baseline, HourAgg};
use story::{Stories, StoryInput};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
/// Keys (topics + channels) tracked at most; more are counted in `Stats::keys_dropped`.
const MAX_KEYS: usize = 4096;
/// Story assignments remembered per key for evidence (top stories, sample posts).
const RECENT_PER_KEY: usize = 256;
/// Stories of prior weight when estimating today's level against the baseline.
const LEVEL_PRIOR: f64 = 20.0;
/// Today's level is measured over the minutes this far back: the 90 minutes before the last 30
/// (a burst does not raise its own bar; a shorter span tracks the hour-to-hour swing of real
/// traffic better than the 150 minutes used before, measured by `sunward bench detect`).
const LEVEL_FROM: i64 = 30;
const LEVEL_TO: i64 = 120;

/// Detector thresholds (`[detect]` in assets/alerts.toml).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// How late (event time) a mention may arrive and still count for its minute.
    pub lateness_minutes: i64,
    /// Days of history the baseline looks back over.
    pub history_days: i64,
    /// Days of history needed before volume alerts fire at all.
    pub warmup_days: i64,
    /// Sliding windows tested for a volume spike, in minutes.
    pub windows_minutes: Vec<i64>,
    /// Fewest stories in a window for a spike: a 2 -> 6 jump at night is not a crisis.
    pub min_volume: u32,
    /// Observed / expected at least this.
    pub spike_ratio: f64,
    /// And this many standard deviations above expected (Poisson plus overdispersion).
    pub spike_z: f64,
    /// Extra relative spread of real traffic beyond Poisson (0.25 = 25 %).
    pub overdispersion: f64,
    pub negative_window_minutes: i64,
    /// Fewest negative stories in the window for a negative-share shift.
    pub negative_min: u32,
    /// Share rise (absolute, 0.2 = 20 points) over the 7-day share.
    pub negative_shift: f64,
    pub negative_z: f64,
    /// A negative post from an author with at least this many followers is an influencer alert.
    pub influencer_followers: u64,
    pub terms_window_minutes: i64,
    /// Stories with crisis terms in the window for a warning, and for a crisis.
    pub terms_min_stories: u32,
    pub terms_crisis_stories: u32,
    /// Term stories must also be this unlikely (in standard deviations) against the key's usual
    /// rate of term stories at that hour.
    pub terms_z: f64,
    /// Stories not seen for this long are forgotten (reposts after that are a new story).
    pub story_hours: i64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            lateness_minutes: 0,
            history_days: 14,
            warmup_days: 3,
            windows_minutes: vec![10, 30],
            min_volume: 8,
            spike_ratio: 2.0,
            spike_z: 2.65,
            overdispersion: 0.25,
            negative_window_minutes: 30,
            negative_min: 15,
            negative_shift: 0.2,
            negative_z: 4.0,
            influencer_followers: 50_000,
            terms_window_minutes: 30,
            terms_min_stories: 3,
            terms_crisis_stories: 10,
            terms_z: 3.75,
            story_hours: 24,
        }
    }
}

/// Crisis terms (`[terms]`): a default list for every topic and channel, plus lists per topic.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TermsConfig {
    pub default: Vec<String>,
    pub topics: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for TermsConfig {
    fn default() -> Self {
        TermsConfig {
            default: [
                "recall",
                "lawsuit",
                "sue",
                "arrested",
                "outage",
                "data breach",
                "hacked",
                "leaked",
                "injury",
                "injured",
                "explosion",
                "fire",
                "crash",
                "poisoning",
                "boycott",
            ]
            .map(String::from)
            .to_vec(),
            topics: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Watch,
    Warning,
    Crisis,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Watch => "watch",
            Severity::Warning => "warning",
            Severity::Crisis => "crisis",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "watch" => Some(Severity::Watch),
            "warning" => Some(Severity::Warning),
            "crisis" => Some(Severity::Crisis),
            _ => None,
        }
    }
}

/// What a detector fired on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    VolumeSpike,
    NegativeShift,
    Influencer,
    CrisisTerms,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::VolumeSpike => "volume_spike",
            Kind::NegativeShift => "negative_shift",
            Kind::Influencer => "influencer",
            Kind::CrisisTerms => "crisis_terms",
        }
    }
}

/// A story as evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoryEvidence {
    pub id: u64,
    pub first_seen: i64,
    pub posts: u64,
    pub reach: u64,
    pub text: String,
}

/// One detector firing. Signals of one event are merged into one alert by `src/alerts`.
#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    pub kind: Kind,
    pub topic: Option<String>,
    pub channel: Option<String>,
    /// Event time (end of the window that fired, or the post's time).
    pub at: i64,
    pub severity: Severity,
    /// Would not have fired on real (non-drill) mentions alone.
    pub drill: bool,
    /// One line for a wall.
    pub title: String,
    /// Counts, baseline, window, terms, author...
    pub evidence: serde_json::Value,
    /// The stories in the window, biggest reach first (at most 5).
    pub stories: Vec<StoryEvidence>,
    /// The influencer, for influencer signals.
    pub author: Option<String>,
    /// Every story in the signal's window (at most 256), so merging can tell that a channel's
    /// spike is the same event as a topic's alert (not shown; `stories` is the evidence).
    #[serde(skip)]
    pub story_ids: Vec<u64>,
}

/// What the detector needs of a stored mention.
#[derive(Debug, Clone)]
pub struct Input {
    pub created_at: i64,
    pub channel: String,
    pub topics: Vec<String>,
    pub negative: bool,
    pub followers: u64,
    pub handle: Option<String>,
    pub text: String,
    pub url: Option<String>,
    pub drill: bool,
}

/// Whether a mention belongs to a drill: drills ingest with source `drill:<run id>`.
pub fn is_drill_source(source: &str) -> bool {
    source.starts_with("drill:")
}

impl From<NewMention> for Input {
    fn from(n: NewMention) -> Input {
        let m = n.mention;
        Input {
            created_at: m.created_at,
            drill: is_drill_source(&m.source),
            channel: m.channel,
            topics: n.enrichment.topics,
            negative: n.enrichment.label == Label::Negative,
            followers: m.author.followers.unwrap_or(0),
            handle: m.author.handle,
            text: m.text,
            url: m.url,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    all: u32,
    real: u32,
    neg_all: u32,
    neg_real: u32,
    terms_all: u32,
    terms_real: u32,
    /// Expected stories this minute, set when the minute is closed: the baseline (`base`)
    /// times today's level.
    exp: f32,
    base: f32,
    closed: bool,
}

#[derive(Default)]
struct Series {
    minutes: HashMap<i64, Bucket, ahash::RandomState>,
    hours: HashMap<i64, HourAgg, ahash::RandomState>,
    baseline: Baseline,
    recent: VecDeque<(i64, u64)>,
    terms_seen: VecDeque<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Topic(String),
    Channel(String),
}

/// Counters of what the detector saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub mentions: u64,
    pub stories: u64,
    pub reposts: u64,
    /// Mentions older than the minutes already evaluated (counted in later windows only).
    pub late: u64,
    pub keys_dropped: u64,
    pub signals: u64,
}

pub struct Detector {
    cfg: DetectConfig,
    terms: Vec<(String, Option<String>)>,
    stories: Stories,
    series: HashMap<Key, Series, ahash::RandomState>,
    /// Minute start of the next minute to evaluate; None until the first mention.
    next_eval: Option<i64>,
    max_seen: i64,
    stats: Stats,
    lower: String,
    /// Minutes (event time) that have posts, to skip long silent gaps quickly.
    data_minutes: std::collections::BTreeSet<i64>,
}

impl Detector {
    pub fn new(cfg: DetectConfig, terms: &TermsConfig) -> Detector {
        let mut t: Vec<(String, Option<String>)> = terms
            .default
            .iter()
            .map(|s| (s.to_lowercase(), None))
            .collect();
        for (topic, list) in &terms.topics {
            t.extend(list.iter().map(|s| (s.to_lowercase(), Some(topic.clone()))));
        }
        t.retain(|(s, _)| !s.trim().is_empty());
        Detector {
            stories: Stories::new(cfg.story_hours.max(1) * HOUR),
            cfg,
            terms: t,
            series: HashMap::default(),
            next_eval: None,
            max_seen: i64::MIN,
            stats: Stats::default(),
            lower: String::new(),
            data_minutes: Default::default(),
        }
    }

    pub fn config(&self) -> &DetectConfig {
        &self.cfg
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The event time up to which minutes are evaluated.
    pub fn watermark(&self) -> Option<i64> {
        self.next_eval
    }

    /// Feeds mentions (any order within `lateness_minutes`); returns the signals of the minutes
    /// the watermark passed, plus influencer signals at once.
    pub fn push(&mut self, batch: Vec<Input>) -> Vec<Signal> {
        let mut out = Vec::new();
        for m in batch {
            self.observe(m, &mut out);
        }
        let wm = self
            .max_seen
            .saturating_sub(self.cfg.lateness_minutes * MINUTE);
        self.advance(wm, &mut out);
        self.stats.signals += out.len() as u64;
        out
    }

    /// Evaluates every minute before `until` (event time) even without new mentions: the end of
    /// a file or a drill's quiet tail.
    pub fn flush_until(&mut self, until: i64) -> Vec<Signal> {
        let mut out = Vec::new();
        self.max_seen = self.max_seen.max(until);
        self.advance(until, &mut out);
        self.stats.signals += out.len() as u64;
        out
    }

    /// Teaches the baseline stored history: `(hour, channel, topic, total, negative)` rows of
    /// mention counts (topic `""` = the channel's all-topics row). Stored counts include reposts,
    /// so a warmed baseline expects slightly more than stories: it errs on the quiet side.
    pub fn warm(&mut self, rows: Vec<(i64, String, String, i64, i64)>) {
        let mut topics: HashMap<(i64, String), HourAgg> = HashMap::new();
        for (hour, channel, topic, total, negative) in rows {
            let agg = HourAgg {
                total: total.clamp(0, u32::MAX as i64) as u32,
                negative: negative.clamp(0, u32::MAX as i64) as u32,
                ..HourAgg::default()
            };
            if topic.is_empty() {
                if self.series.len() < MAX_KEYS
                    || self.series.contains_key(&Key::Channel(channel.clone()))
                {
                    let s = self.series.entry(Key::Channel(channel)).or_default();
                    s.baseline.record(hour, agg);
                }
            } else {
                let t = topics.entry((hour, topic)).or_default();
                t.total += agg.total;
                t.negative += agg.negative;
            }
        }
        for ((hour, topic), agg) in topics {
            if self.series.len() < MAX_KEYS || self.series.contains_key(&Key::Topic(topic.clone()))
            {
                self.series
                    .entry(Key::Topic(topic))
                    .or_default()
                    .baseline
                    .record(hour, agg);
            }
        }
    }

    /// Evaluates every minute up to the newest mention seen (the end of a file).
    pub fn finish(&mut self) -> Vec<Signal> {
        if self.max_seen == i64::MIN {
            return Vec::new();
        }
        let until = self.max_seen + self.cfg.lateness_minutes * MINUTE + MINUTE;
        self.flush_until(until)
    }

    fn term_hits(&mut self, text: &str) -> Vec<usize> {
        if self.terms.is_empty() {
            return Vec::new();
        }
        self.lower.clear();
        for c in text.chars() {
            self.lower.extend(c.to_lowercase());
        }
        let l = &self.lower;
        self.terms
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| contains_word(l, t))
            .map(|(i, _)| i)
            .collect()
    }

    fn observe(&mut self, m: Input, out: &mut Vec<Signal>) {
        self.stats.mentions += 1;
        let minute = m.created_at.div_euclid(MINUTE) * MINUTE;
        if self.next_eval.is_none() {
            self.next_eval = Some(minute);
        }
        self.max_seen = self.max_seen.max(m.created_at);
        self.data_minutes.insert(minute);
        let late = self.next_eval.is_some_and(|n| minute < n);
        if late {
            self.stats.late += 1;
        }
        let a = self.stories.assign(&StoryInput {
            text: &m.text,
            url: m.url.as_deref(),
            created_at: m.created_at,
            followers: m.followers,
        });
        if a.new {
            self.stats.stories += 1;
        } else {
            self.stats.reposts += 1;
        }
        let hits = if a.new {
            self.term_hits(&m.text)
        } else {
            Vec::new()
        };
        let mut keys: Vec<Key> = m.topics.iter().map(|t| Key::Topic(t.clone())).collect();
        keys.push(Key::Channel(m.channel.clone()));
        for key in keys {
            let term_hit: Vec<&str> = hits
                .iter()
                .map(|i| &self.terms[*i])
                .filter(|(_, scope)| match (scope, &key) {
                    (None, _) => true,
                    (Some(t), Key::Topic(k)) => t == k,
                    _ => false,
                })
                .map(|(t, _)| t.as_str())
                .collect();
            if !self.series.contains_key(&key) && self.series.len() >= MAX_KEYS {
                self.stats.keys_dropped += 1;
                continue;
            }
            let s = self.series.entry(key).or_default();
            if s.recent.len() >= RECENT_PER_KEY {
                s.recent.pop_front();
            }
            s.recent.push_back((m.created_at, a.story));
            if !a.new {
                continue;
            }
            let b = s.minutes.entry(minute).or_default();
            b.all += 1;
            b.neg_all += m.negative as u32;
            let th = !term_hit.is_empty();
            b.terms_all += th as u32;
            if !m.drill {
                b.real += 1;
                b.neg_real += m.negative as u32;
                b.terms_real += th as u32;
                let h = s.hours.entry(m.created_at.div_euclid(HOUR)).or_default();
                h.total += 1;
                h.negative += m.negative as u32;
                h.terms += th as u32;
                h.terms_known = true;
            }
            for t in term_hit {
                if s.terms_seen.len() >= 32 {
                    s.terms_seen.pop_front();
                }
                s.terms_seen.push_back((m.created_at, t.to_string()));
            }
        }
        if m.negative && m.followers >= self.cfg.influencer_followers {
            let story = self.stories.get(a.story).map(story_evidence);
            let who = m.handle.clone().unwrap_or_else(|| "unknown".into());
            let sev = if m.followers >= self.cfg.influencer_followers.saturating_mul(20) {
                Severity::Crisis
            } else if m.followers >= self.cfg.influencer_followers.saturating_mul(4) {
                Severity::Warning
            } else {
                Severity::Watch
            };
            out.push(Signal {
                kind: Kind::Influencer,
                topic: m.topics.first().cloned(),
                channel: Some(m.channel.clone()),
                at: m.created_at,
                severity: sev,
                drill: m.drill,
                title: format!(
                    "Influencer complaint by @{who} ({} followers) on {}",
                    m.followers, m.channel
                ),
                evidence: json!({
                    "author": who, "followers": m.followers,
                    "text": m.text.chars().take(280).collect::<String>(), "url": m.url,
                    "topics": m.topics, "at": m.created_at,
                }),
                stories: story.into_iter().collect(),
                author: Some(who),
                story_ids: vec![a.story],
            });
        }
    }

    fn advance(&mut self, wm: i64, out: &mut Vec<Signal>) {
        let Some(mut next) = self.next_eval else {
            return;
        };
        let target = wm.div_euclid(MINUTE) * MINUTE;
        if target <= next {
            return;
        }
        while next < target {
            // A gap of days without any post (a file with a hole, a restart): close the hours in
            // one go and evaluate only the two hours before the next post.
            let data_next = self
                .data_minutes
                .range(next..)
                .next()
                .copied()
                .unwrap_or(target);
            if data_next.min(target) - next > 2 * 24 * HOUR {
                let skip_to = (data_next.min(target) - 2 * HOUR).div_euclid(HOUR) * HOUR;
                self.close_hours_before(skip_to.div_euclid(HOUR));
                next = skip_to;
            }
            if next.rem_euclid(HOUR) == 0 {
                self.close_hours_before(next.div_euclid(HOUR));
                self.data_minutes = self.data_minutes.split_off(&(next - HOUR));
            }
            self.evaluate(next, out);
            next += MINUTE;
        }
        self.next_eval = Some(next);
    }

    fn close_hours_before(&mut self, hour: i64) {
        let keep = self.cfg.history_days + 30;
        for s in self.series.values_mut() {
            let closed: Vec<i64> = s.hours.keys().copied().filter(|h| *h < hour).collect();
            for h in closed {
                if let Some(a) = s.hours.remove(&h) {
                    s.baseline.record(h, a);
                }
            }
            s.baseline.start_at(hour - 1);
            if hour.rem_euclid(24) == 0 {
                s.baseline.prune(hour, keep);
            }
            let cut = hour * HOUR - 3 * HOUR;
            s.minutes.retain(|m, _| *m >= cut);
        }
    }

    fn evaluate(&mut self, minute: i64, out: &mut Vec<Signal>) {
        let cfg = &self.cfg;
        let end = minute + MINUTE;
        let stories = &self.stories;
        for (key, s) in self.series.iter_mut() {
            let base =
                s.baseline
                    .expected_minute(minute + MINUTE / 2, cfg.history_days, cfg.warmup_days);
            // Today's level: real stories over expected in the 90 minutes before the last 30,
            // shrunk towards 1 and clamped to 0.4..2 (a quiet Saturday in the first week, before
            // the weekday factor is known, runs at half the weekday baseline; with 0.67 as the
            // floor the detector missed bursts on such days).
            let exp = base.map(|e| {
                let (mut o, mut x) = (0.0f64, 0.0f64);
                for i in LEVEL_FROM..LEVEL_TO {
                    if let Some(b) = s.minutes.get(&(minute - i * MINUTE)) {
                        if b.base >= 0.0 && b.closed {
                            o += b.real as f64;
                            x += b.base as f64;
                        }
                    }
                }
                e * ((o + LEVEL_PRIOR) / (x + LEVEL_PRIOR)).clamp(0.4, 2.0)
            });
            let b = s.minutes.entry(minute).or_default();
            b.closed = true;
            b.base = base.unwrap_or(-1.0) as f32;
            b.exp = exp.unwrap_or(-1.0) as f32;
            let (topic, channel) = match key {
                Key::Topic(t) => (Some(t.clone()), None),
                Key::Channel(c) => (None, Some(c.clone())),
            };
            let label = match key {
                Key::Topic(t) => format!("topic {t}"),
                Key::Channel(c) => format!("channel {c}"),
            };
            let window = |w: i64| -> Bucket {
                let mut acc = Bucket::default();
                let mut known = true;
                for i in 0..w {
                    match s.minutes.get(&(minute - i * MINUTE)) {
                        Some(b) => {
                            acc.all += b.all;
                            acc.real += b.real;
                            acc.neg_all += b.neg_all;
                            acc.neg_real += b.neg_real;
                            acc.terms_all += b.terms_all;
                            acc.terms_real += b.terms_real;
                            if b.exp < 0.0 {
                                known = false;
                            }
                            acc.exp += b.exp.max(0.0);
                        }
                        None => known = false,
                    }
                }
                acc.closed = known;
                acc
            };
            let evidence_stories = |since: i64| top_stories(stories, &s.recent, since);

            // The expectation is itself uncertain: a mean of `n` same-hour counts errs by about
            // sqrt(1/(n x hourly count) + cv_day^2/n) (cv_day = 0.2), on top of the traffic's own
            // overdispersion. Few days of history (warm-up) widen the tail, so a young baseline
            // does not cry wolf.
            let n_days = s
                .baseline
                .days_known(minute.div_euclid(HOUR), cfg.history_days)
                .max(1);
            let od_of = |exp_window: f64, w: i64| -> f64 {
                let per_hour = (exp_window * 60.0 / w as f64).max(0.5);
                (cfg.overdispersion.powi(2) + (1.0 / per_hour + 0.04) / n_days as f64).sqrt()
            };
            // Volume spike: the strongest window that fires.
            if exp.is_some() {
                let mut best: Option<(f64, f64, i64, Bucket)> = None;
                for &w in &cfg.windows_minutes {
                    let acc = window(w);
                    if !acc.closed {
                        continue;
                    }
                    let od = od_of(acc.exp as f64, w);
                    if let Some((z, ratio)) = spike_test_od(acc.all, acc.exp as f64, od, cfg) {
                        if best.map_or(true, |(bz, ..)| z > bz) {
                            best = Some((z, ratio, w, acc));
                        }
                    }
                }
                if let Some((z, ratio, w, acc)) = best {
                    let od = od_of(acc.exp as f64, w);
                    let drill = spike_test_od(acc.real, acc.exp as f64, od, cfg).is_none();
                    let severity = if ratio >= 5.0 && acc.all >= 5 * cfg.min_volume {
                        Severity::Crisis
                    } else if ratio >= 3.0 {
                        Severity::Warning
                    } else {
                        Severity::Watch
                    };
                    let per_hour = |x: f64| (x * 60.0 / w as f64).round();
                    out.push(Signal {
                        kind: Kind::VolumeSpike,
                        topic: topic.clone(),
                        channel: channel.clone(),
                        at: end,
                        severity,
                        drill,
                        title: format!(
                            "Volume spike on {label}: {}/h vs {}/h expected",
                            per_hour(acc.all as f64),
                            per_hour(acc.exp as f64)
                        ),
                        evidence: json!({
                            "window_minutes": w, "observed": acc.all, "observed_real": acc.real,
                            "expected": round2(acc.exp as f64), "ratio": round2(ratio), "z": round2(z),
                            "unit": "stories",
                        }),
                        stories: evidence_stories(end - w * MINUTE),
                        author: None,
                        story_ids: window_ids(&s.recent, end - w * MINUTE),
                    });
                }
            }

            // Negative-share shift.
            let hour = minute.div_euclid(HOUR);
            let (p0, n0) = s.baseline.negative_share(hour, 7);
            if n0 >= 200 {
                let acc = window(cfg.negative_window_minutes);
                let test = |n: u32, k: u32| -> Option<f64> {
                    if k < cfg.negative_min || n == 0 {
                        return None;
                    }
                    let share = k as f64 / n as f64;
                    let sd = (n as f64 * p0 * (1.0 - p0)).sqrt().max(0.5);
                    let z = (k as f64 - n as f64 * p0) / sd;
                    (share - p0 >= cfg.negative_shift && z >= cfg.negative_z).then_some(share)
                };
                if let Some(share) = test(acc.all, acc.neg_all) {
                    let drill = test(acc.real, acc.neg_real).is_none();
                    let severity = if share - p0 >= 2.0 * cfg.negative_shift {
                        Severity::Warning
                    } else {
                        Severity::Watch
                    };
                    out.push(Signal {
                        kind: Kind::NegativeShift,
                        topic: topic.clone(),
                        channel: channel.clone(),
                        at: end,
                        severity,
                        drill,
                        title: format!(
                            "Negative share on {label}: {:.0}% vs {:.0}% usual",
                            share * 100.0,
                            p0 * 100.0
                        ),
                        evidence: json!({
                            "window_minutes": cfg.negative_window_minutes, "stories": acc.all,
                            "negative": acc.neg_all, "share": round2(share), "usual_share": round2(p0),
                            "usual_based_on": n0,
                        }),
                        stories: evidence_stories(end - cfg.negative_window_minutes * MINUTE),
                        author: None,
                        story_ids: window_ids(
                            &s.recent,
                            end - cfg.negative_window_minutes * MINUTE,
                        ),
                    });
                }
            }

            // Crisis terms.
            let acc = window(cfg.terms_window_minutes);
            // Many term stories AND unusual for this key and hour: a busy topic where "crash" or
            // "fire" turns up in ordinary talk needs well above its usual count. Usual = the
            // 7-day share of term stories x the stories expected in the window (time of day
            // aware), tested like volume (a `terms_z`-sigma event).
            let (share, share_n) = s.baseline.terms_share(hour, 7);
            let tw = window(cfg.terms_window_minutes);
            let usual = if share_n >= 200 && tw.closed {
                share * tw.exp as f64
            } else {
                0.0
            };
            let need_warn = if usual > 0.0 {
                let p_max = normal_upper_tail(cfg.terms_z);
                let mut k = cfg.terms_min_stories.max(1);
                while nb_upper_tail(k, usual, cfg.overdispersion) > p_max && k < 100_000 {
                    k += 1;
                }
                k
            } else {
                cfg.terms_min_stories
            };
            let need_crisis = cfg.terms_crisis_stories.max(2 * need_warn);
            if acc.terms_all >= need_warn {
                let since = end - cfg.terms_window_minutes * MINUTE;
                let mut terms: Vec<&str> = s
                    .terms_seen
                    .iter()
                    .filter(|(t, _)| *t >= since)
                    .map(|(_, w)| w.as_str())
                    .collect();
                terms.sort_unstable();
                terms.dedup();
                let severity = if acc.terms_all >= need_crisis {
                    Severity::Crisis
                } else {
                    Severity::Warning
                };
                out.push(Signal {
                    kind: Kind::CrisisTerms,
                    topic: topic.clone(),
                    channel: channel.clone(),
                    at: end,
                    severity,
                    drill: acc.terms_real < need_warn,
                    title: format!(
                        "Crisis terms on {label}: {} ({} stories in {} min)",
                        terms.join(", "),
                        acc.terms_all,
                        cfg.terms_window_minutes
                    ),
                    evidence: json!({
                        "window_minutes": cfg.terms_window_minutes, "stories": acc.terms_all,
                        "stories_real": acc.terms_real, "terms": terms,
                        "usual": round2(usual), "needed": need_warn,
                    }),
                    stories: evidence_stories(since),
                    author: None,
                    story_ids: window_ids(&s.recent, since),
                });
            }
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `Some((z, ratio))` when `obs` stories against `exp` expected is a spike: at least
/// `min_volume`, `spike_ratio` x expected, and as unlikely as a `spike_z`-sigma event under the
/// expected count. "Unlikely" is the exact upper tail of a negative binomial with mean `exp` and
/// variance `exp + (overdispersion x exp)^2` (Poisson counts whose rate is itself uncertain):
/// a normal approximation would call 9 stories against 2 expected a 4.7-sigma event when it
/// happens several times a day, which is where quiet topics' false alarms came from. `z` is the
/// tail's equivalent in standard deviations, for the evidence.
pub fn spike_test(obs: u32, exp: f64, cfg: &DetectConfig) -> Option<(f64, f64)> {
    spike_test_od(obs, exp, cfg.overdispersion, cfg)
}

/// [`spike_test`] with the relative spread of the expectation given (see `evaluate`).
pub fn spike_test_od(obs: u32, exp: f64, od: f64, cfg: &DetectConfig) -> Option<(f64, f64)> {
    if obs < cfg.min_volume {
        return None;
    }
    let exp = exp.max(0.1);
    let ratio = obs as f64 / exp;
    if ratio < cfg.spike_ratio {
        return None;
    }
    let p = nb_upper_tail(obs, exp, od);
    let p_max = normal_upper_tail(cfg.spike_z);
    (p <= p_max).then(|| (z_of_tail(p), ratio))
}

/// P(X >= k) for a negative binomial with mean `mu` and variance `mu + (od x mu)^2` (Poisson
/// when `od` is 0), summed in log space so large means and far tails neither overflow nor
/// underflow into nonsense.
pub fn nb_upper_tail(k: u32, mu: f64, od: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let mu = mu.max(1e-9);
    // log pmf(0) and the ratio pmf(j+1)/pmf(j) = (j + r)/(j + 1) * q (NB) or mu/(j + 1) (Poisson).
    let (mut lp, r, lq) = if od > 1e-6 {
        let r = 1.0 / (od * od);
        let p = r / (r + mu);
        (r * p.ln(), Some(r), (1.0 - p).ln())
    } else {
        (-mu, None, mu.ln())
    };
    let step = |j: f64| match r {
        Some(r) => ((j + r) / (j + 1.0)).ln() + lq,
        None => lq - (j + 1.0).ln(),
    };
    // The CDF below k and the tail from k on, both relative to the largest log term seen.
    let mut below: Vec<f64> = Vec::with_capacity(k as usize);
    for j in 0..k {
        below.push(lp);
        lp += step(j as f64);
    }
    let mut tail: Vec<f64> = Vec::new();
    let mut j = k as f64;
    let mut best = lp;
    loop {
        tail.push(lp);
        best = best.max(lp);
        lp += step(j);
        j += 1.0;
        // Past the mode the terms shrink geometrically: stop when they no longer count.
        if (j > mu && lp < best - 40.0) || tail.len() > 1_000_000 {
            break;
        }
    }
    let m = below
        .iter()
        .chain(tail.iter())
        .fold(f64::MIN, |a, b| a.max(*b));
    let sum = |v: &[f64]| v.iter().map(|x| (x - m).exp()).sum::<f64>();
    let (b, t) = (sum(&below), sum(&tail));
    if b + t <= 0.0 {
        return 0.0;
    }
    (t / (b + t)).clamp(0.0, 1.0)
}

/// P(Z >= z) for a standard normal (erfc, Numerical Recipes' Chebyshev fit, |error| < 1.2e-7).
pub fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let y = t
        * (-x * x - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    let erfc = if x >= 0.0 { y } else { 2.0 - y };
    0.5 * erfc
}

/// The z whose upper tail is `p` (bisection on [`normal_upper_tail`]; evidence only).
fn z_of_tail(p: f64) -> f64 {
    if p <= 0.0 {
        return 40.0;
    }
    let (mut lo, mut hi) = (-10.0f64, 40.0f64);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if normal_upper_tail(mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

fn story_evidence(s: &story::Story) -> StoryEvidence {
    StoryEvidence {
        id: s.id,
        first_seen: s.first_seen,
        posts: s.posts,
        reach: s.reach,
        text: s.text.clone(),
    }
}

/// The distinct stories of a key since `since` (newest first, at most the key's memory).
fn window_ids(recent: &VecDeque<(i64, u64)>, since: i64) -> Vec<u64> {
    let mut ids: Vec<u64> = recent
        .iter()
        .rev()
        .take_while(|(t, _)| *t >= since)
        .map(|(_, id)| *id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn top_stories(stories: &Stories, recent: &VecDeque<(i64, u64)>, since: i64) -> Vec<StoryEvidence> {
    let mut ids: Vec<u64> = recent
        .iter()
        .rev()
        .take_while(|(t, _)| *t >= since)
        .map(|(_, id)| *id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut v: Vec<StoryEvidence> = ids
        .into_iter()
        .filter_map(|id| stories.get(id).map(story_evidence))
        .collect();
    v.sort_by(|a, b| b.reach.cmp(&a.reach).then(b.posts.cmp(&a.posts)));
    v.truncate(5);
    v
}

/// `needle` occurs in `hay` at word boundaries (both already lowercase).
fn contains_word(hay: &str, needle: &str) -> bool {
    let hb = hay.as_bytes();
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        let s = from + i;
        let e = s + needle.len();
        let before = s == 0 || !hb[s - 1].is_ascii_alphanumeric();
        let after = e >= hb.len() || !hb[e].is_ascii_alphanumeric();
        if before && after {
            return true;
        }
        from = s + 1;
        while from < hay.len() && !hay.is_char_boundary(from) {
            from += 1;
        }
        if from >= hay.len() {
            break;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(t: i64, topic: &str, text: String, drill: bool) -> Input {
        Input {
            created_at: t,
            channel: "x".into(),
            topics: vec![topic.into()],
            negative: false,
            followers: 10,
            handle: Some("someone".into()),
            text,
            url: None,
            drill,
        }
    }

    /// `per_hour` distinct stories each hour for `days` days, evenly spread.
    fn background(d: &mut Detector, days: i64, per_hour: i64) -> Vec<Signal> {
        let mut out = Vec::new();
        let mut n = 0;
        for h in 0..days * 24 {
            let batch: Vec<Input> = (0..per_hour)
                .map(|i| {
                    n += 1;
                    input(
                        h * HOUR + i * HOUR / per_hour,
                        "delays",
                        format!("background post number {n} about nothing in particular today"),
                        false,
                    )
                })
                .collect();
            out.extend(d.push(batch));
        }
        out
    }

    #[test]
    fn words_match_at_boundaries() {
        assert!(contains_word("there is a recall of the seats", "recall"));
        assert!(!contains_word("i recalled it", "recall"));
        assert!(contains_word("massive data breach!", "data breach"));
        assert!(!contains_word("fireworks", "fire"));
    }

    #[test]
    fn flat_background_is_quiet_and_a_burst_fires() {
        let mut d = Detector::new(DetectConfig::default(), &TermsConfig::default());
        let quiet = background(&mut d, 5, 60);
        assert!(
            quiet.iter().all(|s| s.kind != Kind::VolumeSpike),
            "{quiet:?}"
        );
        // Day 5, 12:00: 3x the hourly volume (180/h) on top.
        let start = 5 * 24 * HOUR + 12 * HOUR;
        let mut fired = None;
        for i in 0..90 {
            let t = start + i * 20_000;
            let mut b = vec![input(
                t,
                "delays",
                format!("burst post {i} my flight was cancelled and no one answers the phone"),
                false,
            )];
            b.push(input(
                t + 1,
                "delays",
                format!("more background {i} on a normal day for us"),
                false,
            ));
            for s in d.push(b) {
                if s.kind == Kind::VolumeSpike && s.topic.as_deref() == Some("delays") {
                    fired.get_or_insert(s.at);
                }
            }
        }
        let at = fired.expect("the burst fires");
        assert!(
            at - start <= 10 * MINUTE,
            "fired after {} min",
            (at - start) / MINUTE
        );
    }

    #[test]
    fn reposts_do_not_make_a_spike() {
        let mut d = Detector::new(DetectConfig::default(), &TermsConfig::default());
        background(&mut d, 5, 60);
        let start = 5 * 24 * HOUR + 12 * HOUR;
        let mut spikes = 0;
        for i in 0..300 {
            let t = start + i * 2_000;
            let b = vec![input(
                t,
                "delays",
                "RT @news: Skylark Air grounds every flight in Denver after the storm tonight"
                    .into(),
                false,
            )];
            spikes += d
                .push(b)
                .iter()
                .filter(|s| s.kind == Kind::VolumeSpike && s.topic.is_some())
                .count();
        }
        assert_eq!(spikes, 0);
        assert!(d.stats().reposts >= 299);
    }

    #[test]
    fn drill_bursts_are_marked_and_do_not_teach_the_baseline() {
        let mut d = Detector::new(DetectConfig::default(), &TermsConfig::default());
        background(&mut d, 4, 60);
        let start = 4 * 24 * HOUR + 12 * HOUR;
        let mut sigs = Vec::new();
        for i in 0..180 {
            let t = start + i * 10_000;
            sigs.extend(d.push(vec![input(
                t,
                "delays",
                format!("drill post {i} the whole fleet is grounded and the app is down"),
                true,
            )]));
        }
        let spike = sigs
            .iter()
            .find(|s| s.kind == Kind::VolumeSpike)
            .expect("the drill fires");
        assert!(spike.drill);
        // The drill hour is not learned: only real mentions reach the hourly history.
        let s = d.series.get(&Key::Topic("delays".into())).unwrap();
        assert_eq!(s.hours.get(&(start / HOUR)).map_or(0, |a| a.total), 0);
    }

    #[test]
    fn crisis_terms_and_influencers_fire() {
        let mut d = Detector::new(DetectConfig::default(), &TermsConfig::default());
        let mut sigs = Vec::new();
        for i in 0..5 {
            sigs.extend(d.push(vec![input(
                i * MINUTE,
                "app",
                format!("is this a data breach? my account {i} was used from another country"),
                false,
            )]));
        }
        let mut big = input(6 * MINUTE, "app", "worst airline ever".into(), false);
        big.negative = true;
        big.followers = 2_000_000;
        big.handle = Some("famous".into());
        sigs.extend(d.push(vec![big]));
        sigs.extend(d.flush_until(10 * MINUTE));
        assert!(sigs
            .iter()
            .any(|s| s.kind == Kind::CrisisTerms && s.topic.as_deref() == Some("app")));
        let inf = sigs.iter().find(|s| s.kind == Kind::Influencer).unwrap();
        assert_eq!(inf.author.as_deref(), Some("famous"));
        assert_eq!(inf.severity, Severity::Crisis);
    }

    #[test]
    fn tails_are_exact_where_the_normal_approximation_lies() {
        // Poisson(2): P(X >= 9) = 2.37e-4 (a normal approximation says 4.9 sigma: 5e-7).
        let p = nb_upper_tail(9, 2.0, 0.0);
        assert!((p - 2.37e-4).abs() < 0.05e-4, "{p}");
        // Poisson(50): P(X >= 70) = 0.004335.
        let p = nb_upper_tail(70, 50.0, 0.0);
        assert!((p - 0.004335).abs() < 1e-6, "{p}");
        // Overdispersion widens the tail.
        assert!(nb_upper_tail(70, 50.0, 0.25) > 0.05);
        assert!((normal_upper_tail(1.96) - 0.025).abs() < 1e-4);
        assert!((z_of_tail(normal_upper_tail(3.75)) - 3.75).abs() < 1e-3);
        // Huge means and far tails stay finite.
        assert!(nb_upper_tail(20_000, 5_000.0, 0.25) < 1e-6);
        assert!(nb_upper_tail(1, 5_000.0, 0.0) > 0.999);
    }
}
