//! Merging and cooldown: one event is one alert that grows, not fifty alerts.
//!
//! Signals merge by key: `topic:<t>` when the signal has a topic, else `channel:<c>`, and
//! `influencers` for influencer complaints without a topic (so a day of complaints from many big
//! accounts is one growing alert, not a hundred). Influencer evidence accumulates: the alert
//! lists the complaints (newest [`INFLUENCER_POSTS`]) and counts them and their authors. A signal
//! joins the open alert of its key if that alert's last signal is at most `cooldown` earlier
//! (event time). A channel-level signal joins an active alert that holds a third of its window's
//! stories or one of its evidence stories (the same event seen per channel). After an alert is
//! resolved, signals of its key stay quiet for the cooldown unless they are more severe. Drill
//! signals never merge with real ones.
//!
//! Pure: no I/O. [`Merger::apply`] says what changed; `src/alerts` stores it and tells the walls.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::detect::{Kind, Severity, Signal, StoryEvidence};

/// Story ids an active alert remembers for merging.
pub const STORY_MEMORY: usize = 2048;

/// Influencer complaints an alert lists at most (the newest; `count` has them all).
pub const INFLUENCER_POSTS: usize = 20;

#[derive(Debug, Clone)]
pub struct Active {
    /// 0 until stored.
    pub id: i64,
    pub key: String,
    pub kind: String,
    pub kinds: BTreeSet<String>,
    pub topic: Option<String>,
    pub channel: Option<String>,
    pub severity: Severity,
    pub resolved: bool,
    pub title: String,
    pub fired_at: i64,
    pub last_at: i64,
    pub signals: i64,
    pub drill: bool,
    /// Latest evidence per kind.
    pub evidence: BTreeMap<String, Value>,
    pub stories: Vec<StoryEvidence>,
    /// Stories seen in its signals' windows (the newest [`STORY_MEMORY`]), to recognise the same
    /// event seen on a channel.
    pub story_ids: Vec<u64>,
    /// Event time of the last change worth writing.
    pub written_at: i64,
}

impl Active {
    pub fn evidence_json(&self) -> Value {
        serde_json::to_value(&self.evidence).unwrap_or(Value::Null)
    }
    pub fn stories_json(&self) -> Value {
        serde_json::to_value(&self.stories).unwrap_or(Value::Null)
    }
    pub fn kinds_vec(&self) -> Vec<String> {
        self.kinds.iter().cloned().collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new alert; its `key` indexes [`Merger::get`].
    Opened(String),
    /// An alert grew in a way worth writing (severity, a new kind, or minutes of growth).
    Grew(String),
}

pub struct Merger {
    pub cooldown_ms: i64,
    active: HashMap<String, Active>,
}

/// Rewrite an alert's row at most this often (event time) while it only grows in count.
const WRITE_EVERY_MS: i64 = 5 * 60_000;

impl Merger {
    pub fn new(cooldown_minutes: i64) -> Merger {
        Merger {
            cooldown_ms: cooldown_minutes.max(1) * 60_000,
            active: HashMap::new(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Active> {
        self.active.get(key)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Active> {
        self.active.get_mut(key)
    }

    /// Seeds the merger with an alert read back from the store (restart).
    pub fn seed(&mut self, a: Active) {
        self.active.insert(a.key.clone(), a);
    }

    /// Marks the alert with `id` resolved (it stays as the cooldown's memory).
    pub fn resolved(&mut self, id: i64) {
        if let Some(a) = self.active.values_mut().find(|a| a.id == id) {
            a.resolved = true;
        }
    }

    pub fn active(&self) -> impl Iterator<Item = &Active> {
        self.active.values()
    }

    pub fn key_of(s: &Signal) -> String {
        let prefix = if s.drill { "drill:" } else { "" };
        match (&s.topic, &s.channel, &s.author) {
            (Some(t), _, _) => format!("{prefix}topic:{t}"),
            (None, _, Some(_)) if s.kind == crate::detect::Kind::Influencer => {
                format!("{prefix}influencers")
            }
            (None, Some(c), _) => format!("{prefix}channel:{c}"),
            (None, None, _) => format!("{prefix}all"),
        }
    }

    pub fn apply(&mut self, s: Signal) -> Option<Change> {
        let own = Self::key_of(&s);
        let cooldown = self.cooldown_ms;
        let live = |a: &Active| !a.resolved && s.at - a.last_at <= cooldown && a.drill == s.drill;
        let mut key = own.clone();
        if !self.active.get(&own).is_some_and(live) && s.topic.is_none() {
            // The same event seen on a channel: most of the channel window's stories belong to
            // an active alert (a third of them, or any of its evidence stories).
            let mut ids: Vec<u64> = s.story_ids.clone();
            ids.extend(s.stories.iter().map(|x| x.id));
            ids.sort_unstable();
            ids.dedup();
            if !ids.is_empty() {
                let need = ids.len().div_ceil(3);
                if let Some((_, a)) = self
                    .active
                    .values()
                    .filter(|a| live(a))
                    .map(|a| {
                        let shared = ids
                            .iter()
                            .filter(|id| {
                                a.story_ids.contains(id) || a.stories.iter().any(|x| x.id == **id)
                            })
                            .count();
                        (shared, a)
                    })
                    .filter(|(n, a)| {
                        *n >= need
                            || a.stories
                                .iter()
                                .any(|x| s.stories.iter().any(|y| y.id == x.id))
                    })
                    .max_by_key(|(n, a)| (*n, a.last_at))
                {
                    key = a.key.clone();
                }
            }
        }
        match self.active.get_mut(&key) {
            Some(a) if live(a) => {
                a.signals += 1;
                a.last_at = a.last_at.max(s.at);
                let new_kind = a.kinds.insert(s.kind.as_str().to_string());
                let worse = s.severity > a.severity;
                if worse {
                    a.severity = s.severity;
                }
                if worse || new_kind {
                    a.title = s.title.clone();
                }
                let k = s.kind.as_str().to_string();
                let ev = if s.kind == Kind::Influencer {
                    influencer_evidence(a.evidence.remove(&k), s.evidence)
                } else {
                    s.evidence
                };
                if s.kind == Kind::Influencer && a.kinds.len() == 1 {
                    // Only complaints so far: say how many, not just the first.
                    let n = ev.get("count").and_then(Value::as_u64).unwrap_or(1);
                    let who = ev.get("authors").and_then(Value::as_u64).unwrap_or(1);
                    let on = a
                        .topic
                        .as_deref()
                        .map_or_else(|| "no topic".to_string(), |t| format!("topic {t}"));
                    a.title = format!(
                        "{n} influencer complaints on {on} from {who} accounts (latest @{})",
                        s.author.as_deref().unwrap_or("unknown")
                    );
                }
                a.evidence.insert(k, ev);
                remember(&mut a.story_ids, &s.story_ids);
                merge_stories(&mut a.stories, s.stories);
                if worse || new_kind || s.at - a.written_at >= WRITE_EVERY_MS {
                    a.written_at = s.at;
                    Some(Change::Grew(key))
                } else {
                    None
                }
            }
            Some(a) if a.resolved && s.at - a.last_at <= cooldown && s.severity <= a.severity => {
                // Resolved and still within cooldown: the same event still echoing.
                a.last_at = s.at;
                None
            }
            _ => {
                self.prune(s.at);
                let kind = s.kind.as_str().to_string();
                let evidence = if s.kind == Kind::Influencer {
                    influencer_evidence(None, s.evidence)
                } else {
                    s.evidence
                };
                let a = Active {
                    id: 0,
                    key: own.clone(),
                    kinds: BTreeSet::from([kind.clone()]),
                    kind: kind.clone(),
                    topic: s.topic,
                    channel: s.channel,
                    severity: s.severity,
                    resolved: false,
                    title: s.title,
                    fired_at: s.at,
                    last_at: s.at,
                    signals: 1,
                    drill: s.drill,
                    evidence: BTreeMap::from([(kind, evidence)]),
                    stories: s.stories,
                    story_ids: Vec::new(),
                    written_at: s.at,
                };
                let mut a = a;
                remember(&mut a.story_ids, &s.story_ids);

                self.active.insert(own.clone(), a);
                Some(Change::Opened(own))
            }
        }
    }

    /// Forgets alerts quiet for two cooldowns (they can no longer merge or suppress).
    fn prune(&mut self, now: i64) {
        let keep = 2 * self.cooldown_ms;
        self.active.retain(|_, a| now - a.last_at <= keep);
    }
}

/// Influencer evidence that grows: `{count, authors, followers_max, posts:[the signal's own
/// evidence: author, followers, text, url, topics, at]}` (newest last), so the alert says who
/// complained, not only the latest one.
fn influencer_evidence(old: Option<Value>, new: Value) -> Value {
    let mut old = old.unwrap_or(Value::Null);
    let mut posts: Vec<Value> = old
        .get_mut("posts")
        .and_then(|p| p.as_array_mut())
        .map(std::mem::take)
        .unwrap_or_default();
    let count = old.get("count").and_then(Value::as_u64).unwrap_or(0) + 1;
    let mut authors: Vec<String> = old
        .get("author_list")
        .and_then(|a| serde_json::from_value(a.clone()).ok())
        .unwrap_or_default();
    let author = new
        .get("author")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    if !authors.iter().any(|a| a == author) && authors.len() < 200 {
        authors.push(author.to_string());
    }
    let followers = new.get("followers").and_then(Value::as_u64).unwrap_or(0);
    let max = old
        .get("followers_max")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .max(followers);
    posts.push(new);
    if posts.len() > INFLUENCER_POSTS {
        posts.drain(..posts.len() - INFLUENCER_POSTS);
    }
    serde_json::json!({
        "count": count, "authors": authors.len(), "author_list": authors,
        "followers_max": max, "posts": posts,
    })
}

fn remember(into: &mut Vec<u64>, ids: &[u64]) {
    for id in ids {
        if !into.contains(id) {
            into.push(*id);
        }
    }
    if into.len() > STORY_MEMORY {
        into.drain(..into.len() - STORY_MEMORY);
    }
}

fn merge_stories(into: &mut Vec<StoryEvidence>, more: Vec<StoryEvidence>) {
    for s in more {
        match into.iter_mut().find(|x| x.id == s.id) {
            Some(x) => {
                x.posts = x.posts.max(s.posts);
                x.reach = x.reach.max(s.reach);
            }
            None => into.push(s),
        }
    }
    into.sort_by_key(|s| std::cmp::Reverse(s.reach));
    into.truncate(5);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(kind: Kind, topic: Option<&str>, at: i64, sev: Severity) -> Signal {
        Signal {
            kind,
            topic: topic.map(String::from),
            channel: None,
            at,
            severity: sev,
            drill: false,
            title: format!("{kind:?} {at}"),
            evidence: serde_json::json!({"at": at}),
            stories: vec![],
            author: None,
            story_ids: vec![],
        }
    }

    const MIN: i64 = 60_000;

    #[test]
    fn one_event_is_one_alert_that_grows() {
        let mut m = Merger::new(60);
        assert_eq!(
            m.apply(sig(Kind::VolumeSpike, Some("delays"), 0, Severity::Watch)),
            Some(Change::Opened("topic:delays".into()))
        );
        // Fifty more minutes of the same spike: no new alert, few writes.
        let mut grew = 0;
        for i in 1..50 {
            match m.apply(sig(
                Kind::VolumeSpike,
                Some("delays"),
                i * MIN,
                Severity::Watch,
            )) {
                Some(Change::Opened(_)) => panic!("a second alert"),
                Some(Change::Grew(_)) => grew += 1,
                None => {}
            }
        }
        assert!(grew <= 10, "{grew}");
        // A new kind and a worse severity are written at once.
        assert_eq!(
            m.apply(sig(
                Kind::CrisisTerms,
                Some("delays"),
                50 * MIN,
                Severity::Crisis
            )),
            Some(Change::Grew("topic:delays".into()))
        );
        let a = m.get("topic:delays").unwrap();
        assert_eq!(a.signals, 51);
        assert_eq!(a.severity, Severity::Crisis);
        assert_eq!(a.kinds.len(), 2);
        assert_eq!(a.fired_at, 0);
    }

    #[test]
    fn after_the_cooldown_a_new_alert_opens() {
        let mut m = Merger::new(60);
        m.apply(sig(Kind::VolumeSpike, Some("delays"), 0, Severity::Watch));
        assert!(matches!(
            m.apply(sig(
                Kind::VolumeSpike,
                Some("delays"),
                61 * MIN,
                Severity::Watch
            )),
            Some(Change::Opened(_))
        ));
    }

    #[test]
    fn resolved_alerts_keep_quiet_unless_worse() {
        let mut m = Merger::new(60);
        m.apply(sig(Kind::VolumeSpike, Some("delays"), 0, Severity::Warning));
        m.get_mut("topic:delays").unwrap().id = 7;
        m.resolved(7);
        assert_eq!(
            m.apply(sig(
                Kind::VolumeSpike,
                Some("delays"),
                10 * MIN,
                Severity::Warning
            )),
            None
        );
        assert!(matches!(
            m.apply(sig(
                Kind::VolumeSpike,
                Some("delays"),
                20 * MIN,
                Severity::Crisis
            )),
            Some(Change::Opened(_))
        ));
    }

    #[test]
    fn channel_signals_join_the_topic_alert_sharing_a_story() {
        let mut m = Merger::new(60);
        let story = StoryEvidence {
            id: 42,
            first_seen: 0,
            posts: 3,
            reach: 100,
            text: "x".into(),
        };
        let mut a = sig(Kind::VolumeSpike, Some("delays"), 0, Severity::Warning);
        a.stories = vec![story.clone()];
        m.apply(a);
        let mut c = sig(Kind::VolumeSpike, None, MIN, Severity::Warning);
        c.channel = Some("x".into());
        c.stories = vec![story];
        assert!(!matches!(m.apply(c), Some(Change::Opened(_))));
        assert!(m.get("channel:x").is_none());
        assert_eq!(m.get("topic:delays").unwrap().signals, 2);
    }

    #[test]
    fn drills_never_merge_with_real_alerts() {
        let mut m = Merger::new(60);
        m.apply(sig(Kind::VolumeSpike, Some("delays"), 0, Severity::Warning));
        let mut d = sig(Kind::VolumeSpike, Some("delays"), MIN, Severity::Warning);
        d.drill = true;
        assert_eq!(
            m.apply(d),
            Some(Change::Opened("drill:topic:delays".into()))
        );
    }

    fn complaint(topic: Option<&str>, author: &str, at: i64) -> Signal {
        let mut s = sig(Kind::Influencer, topic, at, Severity::Watch);
        s.author = Some(author.into());
        s.channel = Some("x".into());
        s.evidence = serde_json::json!({"author": author, "followers": 80_000, "text": format!("bad service says {author}"), "at": at});
        s
    }

    #[test]
    fn influencer_complaints_on_one_topic_are_one_alert_listing_the_posts() {
        let mut m = Merger::new(60);
        let mut opened = 0;
        // A complaint every 20 minutes from a different big account for five hours.
        for i in 0..15 {
            if let Some(Change::Opened(_)) =
                m.apply(complaint(Some("delays"), &format!("big{i}"), i * 20 * MIN))
            {
                opened += 1;
            }
        }
        assert_eq!(opened, 1);
        let a = m.get("topic:delays").unwrap();
        let ev = &a.evidence["influencer"];
        assert_eq!(ev["count"], 15);
        assert_eq!(ev["authors"], 15);
        let posts = ev["posts"].as_array().unwrap();
        assert_eq!(posts.len(), 15);
        assert_eq!(posts[14]["author"], "big14");
        assert!(
            a.title
                .starts_with("15 influencer complaints on topic delays"),
            "{}",
            a.title
        );
    }

    #[test]
    fn influencer_complaints_without_a_topic_merge_too_and_the_list_is_bounded() {
        let mut m = Merger::new(60);
        let mut opened = 0;
        for i in 0..40 {
            if let Some(Change::Opened(_)) =
                m.apply(complaint(None, &format!("acct{}", i % 7), i * 5 * MIN))
            {
                opened += 1;
            }
        }
        assert_eq!(opened, 1);
        let ev = &m.get("influencers").unwrap().evidence["influencer"];
        assert_eq!(ev["count"], 40);
        assert_eq!(ev["authors"], 7);
        assert_eq!(ev["posts"].as_array().unwrap().len(), INFLUENCER_POSTS);
        // After a quiet cooldown, the next complaint is a new event.
        assert!(matches!(
            m.apply(complaint(None, "late", 40 * 5 * MIN + 61 * MIN)),
            Some(Change::Opened(_))
        ));
    }

    #[test]
    fn a_channel_spike_made_of_a_topic_alerts_stories_joins_it() {
        let mut m = Merger::new(60);
        let mut t = sig(Kind::CrisisTerms, Some("crew"), 0, Severity::Crisis);
        t.story_ids = (1..=40).collect();
        m.apply(t);
        // The channel's window: 12 of the topic's stories and 3 others; top evidence differs.
        let mut c = sig(Kind::CrisisTerms, None, 5 * MIN, Severity::Crisis);
        c.channel = Some("mastodon".into());
        c.story_ids = (29..=40).chain(900..903).collect();
        assert!(!matches!(m.apply(c), Some(Change::Opened(_))));
        assert!(m.get("channel:mastodon").is_none());
        // A channel spike of other stories is its own alert.
        let mut o = sig(Kind::VolumeSpike, None, 6 * MIN, Severity::Warning);
        o.channel = Some("reddit".into());
        o.story_ids = (500..520).collect();
        assert!(matches!(m.apply(o), Some(Change::Opened(_))));
    }
}
