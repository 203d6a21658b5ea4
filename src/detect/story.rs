//! Story clustering: near-duplicate texts, reposts and quotes of the same post collapse into one
//! story with a reach, so twelve reposts are one story, not a spike of twelve.
//!
//! A text is normalized (case, `RT @x:` prefixes, mentions, links, punctuation dropped), then
//! fingerprinted with a 64-bit SimHash over word unigrams and bigrams. Two texts whose
//! fingerprints differ in at most [`MAX_HAMMING`] bits are the same story. Lookup is by four
//! 16-bit bands: by the pigeonhole principle two fingerprints within 3 bits share at least one
//! band exactly, so candidates come from four hash lookups instead of a scan.
//!
//! Links join stories too: a post that links to a URL an earlier story carries (or to the
//! permalink of a post of that story, as quote posts do) joins that story.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use serde::Serialize;

/// Most differing fingerprint bits for two texts to be one story.
pub const MAX_HAMMING: u32 = 3;
/// Texts with fewer words are never merged by fingerprint: "thank you" from forty people is forty
/// messages, not one story.
pub const MIN_WORDS: usize = 4;
/// Candidates kept per band bucket; older ones fall out (bounded memory on generic texts).
const BUCKET_CAP: usize = 24;

/// What the clusterer needs of a mention.
pub struct StoryInput<'a> {
    pub text: &'a str,
    pub url: Option<&'a str>,
    pub created_at: i64,
    pub followers: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Story {
    pub id: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// Posts in the story (the first one plus reposts, quotes and near-duplicates).
    pub posts: u64,
    /// Sum of the authors' followers plus one per post: how many people could have seen it.
    pub reach: u64,
    /// The first post's text (trimmed), for evidence.
    pub text: String,
    #[serde(skip)]
    fingerprint: u64,
}

/// The result of assigning one post.
#[derive(Debug, Clone, Copy)]
pub struct Assigned {
    pub story: u64,
    /// The post started a new story (counts as volume); false = a repost/near-duplicate.
    pub new: bool,
}

pub struct Stories {
    stories: HashMap<u64, Story, ahash::RandomState>,
    bands: HashMap<(u8, u16), Vec<u64>, ahash::RandomState>,
    links: HashMap<String, u64, ahash::RandomState>,
    next: u64,
    /// Stories not seen for this long are forgotten.
    pub ttl_ms: i64,
    last_sweep: i64,
    hasher: ahash::RandomState,
}

impl Stories {
    pub fn new(ttl_ms: i64) -> Stories {
        Stories {
            stories: HashMap::default(),
            bands: HashMap::default(),
            links: HashMap::default(),
            next: 1,
            ttl_ms,
            last_sweep: i64::MIN,
            // Fixed seeds: the same text gets the same fingerprint in every run (tests, drills).
            hasher: ahash::RandomState::with_seeds(7, 11, 13, 17),
        }
    }

    pub fn get(&self, id: u64) -> Option<&Story> {
        self.stories.get(&id)
    }

    pub fn len(&self) -> usize {
        self.stories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stories.is_empty()
    }

    pub fn assign(&mut self, p: &StoryInput) -> Assigned {
        if p.created_at > self.last_sweep.saturating_add(3_600_000) {
            self.sweep(p.created_at);
        }
        let mut words = Vec::with_capacity(32);
        let mut links = Vec::new();
        normalize(p.text, &mut words, &mut links);
        if let Some(u) = p.url.and_then(canonical_link) {
            links.push(u);
        }
        // 1. A shared link (article, or the permalink a quote post points at).
        let by_link = links
            .iter()
            .find_map(|l| self.links.get(l).copied())
            .filter(|id| self.stories.contains_key(id));
        // 2. A near-duplicate text.
        let fp = if words.len() >= MIN_WORDS {
            Some(self.simhash(&words))
        } else {
            None
        };
        let found = by_link.or_else(|| fp.and_then(|fp| self.nearest(fp)));
        let reach = p.followers.saturating_add(1);
        let id = match found {
            Some(id) => {
                if let Some(s) = self.stories.get_mut(&id) {
                    s.posts += 1;
                    s.reach = s.reach.saturating_add(reach);
                    s.last_seen = s.last_seen.max(p.created_at);
                }
                // A repost's own permalink leads to the story too (quotes of the repost).
                for l in links {
                    self.links.entry(l).or_insert(id);
                }
                return Assigned {
                    story: id,
                    new: false,
                };
            }
            None => {
                let id = self.next;
                self.next += 1;
                id
            }
        };
        if let Some(fp) = fp {
            for b in 0..4u8 {
                let v = self.bands.entry((b, band(fp, b))).or_default();
                if v.len() >= BUCKET_CAP {
                    v.remove(0);
                }
                v.push(id);
            }
        }
        for l in links {
            self.links.insert(l, id);
        }
        let text: String = p.text.chars().take(280).collect();
        self.stories.insert(
            id,
            Story {
                id,
                first_seen: p.created_at,
                last_seen: p.created_at,
                posts: 1,
                reach,
                text,
                fingerprint: fp.unwrap_or(0),
            },
        );
        Assigned {
            story: id,
            new: true,
        }
    }

    fn nearest(&self, fp: u64) -> Option<u64> {
        let mut best: Option<(u32, u64)> = None;
        for b in 0..4u8 {
            if let Some(ids) = self.bands.get(&(b, band(fp, b))) {
                for id in ids {
                    if let Some(s) = self.stories.get(id) {
                        let d = (s.fingerprint ^ fp).count_ones();
                        if d <= MAX_HAMMING && best.map_or(true, |(bd, _)| d < bd) {
                            best = Some((d, *id));
                        }
                    }
                }
            }
        }
        best.map(|(_, id)| id)
    }

    fn simhash(&self, words: &[&str]) -> u64 {
        let mut acc = [0i32; 64];
        let mut add = |h: u64, w: i32| {
            for (i, a) in acc.iter_mut().enumerate() {
                if h >> i & 1 == 1 {
                    *a += w;
                } else {
                    *a -= w;
                }
            }
        };
        for (i, w) in words.iter().enumerate() {
            add(self.hash_one(w), 1);
            if i + 1 < words.len() {
                let mut h = self.hasher.build_hasher();
                hash_lower(w, &mut h);
                hash_lower(words[i + 1], &mut h);
                add(h.finish(), 2);
            }
        }
        acc.iter()
            .enumerate()
            .fold(0u64, |fp, (i, a)| if *a > 0 { fp | 1 << i } else { fp })
    }

    fn hash_one(&self, w: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        hash_lower(w, &mut h);
        h.finish()
    }

    /// Forgets stories not seen for `ttl_ms` before `now` (event time).
    fn sweep(&mut self, now: i64) {
        self.last_sweep = now;
        let cutoff = now - self.ttl_ms;
        let before = self.stories.len();
        self.stories.retain(|_, s| s.last_seen >= cutoff);
        if self.stories.len() == before {
            return;
        }
        let alive = &self.stories;
        self.bands.retain(|_, ids| {
            ids.retain(|id| alive.contains_key(id));
            !ids.is_empty()
        });
        self.links.retain(|_, id| alive.contains_key(id));
    }
}

fn band(fp: u64, b: u8) -> u16 {
    (fp >> (16 * b as u64)) as u16
}

/// Lowercased words of `text` without repost prefixes, @mentions, links and punctuation;
/// links found go to `links` in canonical form.
pub fn normalize<'a>(text: &'a str, words: &mut Vec<&'a str>, links: &mut Vec<String>) {
    let mut tokens = text.split_whitespace().peekable();
    // "RT @user:" and "RT:" prefixes (classic retweets, cross-posters).
    while let Some(t) = tokens.peek() {
        let low = t.trim_end_matches(':');
        if low.eq_ignore_ascii_case("rt") || low.eq_ignore_ascii_case("via") || t.starts_with('@') {
            tokens.next();
        } else {
            break;
        }
    }
    // Hashtags a cross-poster appends at the end ("... stranded #SkylarkAir #travel") are
    // labels, not the story: a syndicated copy must fingerprint like the original.
    let mut trailing_tags = 0;
    for t in tokens {
        if t.starts_with("http://") || t.starts_with("https://") || t.starts_with("www.") {
            if let Some(l) = canonical_link(t) {
                links.push(l);
            }
            continue;
        }
        if t.starts_with('@') {
            continue;
        }
        let w = t.trim_matches(|c: char| !c.is_alphanumeric());
        if !w.is_empty() {
            words.push(w);
            if t.starts_with('#') {
                trailing_tags += 1;
            } else {
                trailing_tags = 0;
            }
        }
    }
    if trailing_tags < words.len() {
        words.truncate(words.len() - trailing_tags);
    }
}

/// Feeds `w` lowercased into `h` (case folding without allocating a string per word).
fn hash_lower<H: Hasher>(w: &str, h: &mut H) {
    for c in w.chars() {
        for l in c.to_lowercase() {
            h.write_u32(l as u32);
        }
    }
    h.write_u8(0xff);
}

/// `https://www.Example.com/a/b/?utm_source=x#top` -> `example.com/a/b`; None for non-links.
pub fn canonical_link(raw: &str) -> Option<String> {
    let s = raw.trim_end_matches(['.', ',', ')', '"', '\'', '!', '?']);
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let rest = rest.split(['#']).next().unwrap_or("");
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path = path.trim_end_matches('/');
    if !path.contains('.') || path.len() < 4 {
        return None;
    }
    let (host, tail) = path.split_once('/').unwrap_or((path, ""));
    let mut out = host.to_ascii_lowercase();
    // twitter.com and x.com permalinks are the same post.
    if out == "twitter.com" || out == "mobile.twitter.com" {
        out = "x.com".into();
    }
    if !tail.is_empty() {
        out.push('/');
        out.push_str(tail);
    }
    if let Some(q) = query {
        let kept: Vec<&str> = q
            .split('&')
            .filter(|kv| !kv.starts_with("utm_") && !kv.starts_with("ref") && !kv.is_empty())
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post<'a>(text: &'a str, t: i64) -> StoryInput<'a> {
        StoryInput {
            text,
            url: None,
            created_at: t,
            followers: 10,
        }
    }

    #[test]
    fn links_are_canonical() {
        assert_eq!(
            canonical_link("https://www.Example.com/a/b/?utm_source=x&id=3#top").as_deref(),
            Some("example.com/a/b?id=3")
        );
        assert_eq!(
            canonical_link("https://twitter.com/skylark/status/123").as_deref(),
            Some("x.com/skylark/status/123")
        );
        assert_eq!(canonical_link("http://"), None);
    }

    #[test]
    fn reposts_collapse_into_one_story() {
        let mut s = Stories::new(24 * 3_600_000);
        let a = s.assign(&post(
            "Skylark Air just cancelled every flight out of Denver tonight, hundreds stranded",
            0,
        ));
        assert!(a.new);
        let reposts = [
            "RT @jo: Skylark Air just cancelled every flight out of Denver tonight, hundreds stranded",
            "skylark air just cancelled every flight out of denver tonight hundreds stranded!!",
            "RT @news: Skylark Air just cancelled every flight out of Denver tonight, hundreds stranded https://t.co/abc",
            "@skylarkair Skylark Air just cancelled every flight out of Denver tonight, hundreds stranded",
        ];
        for (i, r) in reposts.iter().enumerate() {
            let b = s.assign(&post(r, 1000 * i as i64));
            assert!(!b.new, "repost {i} should join: {r}");
            assert_eq!(b.story, a.story);
        }
        let other = s.assign(&post(
            "My bag never arrived in Boston and nobody at the desk can tell me where it is",
            5000,
        ));
        assert!(other.new);
        assert_eq!(s.get(a.story).map(|x| x.posts), Some(5));
        assert_eq!(s.get(a.story).map(|x| x.reach), Some(55));
    }

    #[test]
    fn quote_posts_join_by_permalink() {
        let mut s = Stories::new(24 * 3_600_000);
        let a = s.assign(&StoryInput {
            text: "Our CEO has been arrested this morning, statement to follow",
            url: Some("https://x.com/newsdesk/status/42"),
            created_at: 0,
            followers: 1000,
        });
        let q = s.assign(&post(
            "wow can't believe this https://twitter.com/newsdesk/status/42",
            10,
        ));
        assert_eq!(q.story, a.story);
        assert!(!q.new);
    }

    #[test]
    fn short_generic_texts_stay_separate() {
        let mut s = Stories::new(24 * 3_600_000);
        assert!(s.assign(&post("thank you!", 0)).new);
        assert!(s.assign(&post("thank you!", 1)).new);
    }

    #[test]
    fn stories_expire() {
        let mut s = Stories::new(3_600_000);
        let text = "the app keeps crashing whenever I try to check in for my flight";
        let a = s.assign(&post(text, 0));
        let b = s.assign(&post(text, 3 * 3_600_000));
        assert!(b.new);
        assert_ne!(a.story, b.story);
    }

    /// Issue 8: the same story posted on X, syndicated to Mastodon with a hashtag and a link,
    /// and re-published as an RSS item (title plus article link) is one story, whose reach
    /// adds up every network's audience.
    #[test]
    fn the_same_story_across_networks_and_a_republished_feed_item_is_one_story() {
        let mut s = Stories::new(24 * 3_600_000);
        let t = 1_700_000_000_000;
        let on =
            |text: &'static str, url: Option<&'static str>, followers: u64, dt: i64| StoryInput {
                text,
                url,
                created_at: t + dt,
                followers,
            };
        let x = s.assign(&on(
            "Skylark Air cancelled every flight out of Denver tonight, thousands stranded https://t.co/AbC123",
            Some("https://x.com/newsdesk/status/1850000000000000001"),
            120_000,
            0,
        ));
        let masto = s.assign(&on(
            "Skylark Air cancelled every flight out of Denver tonight - thousands stranded! #SkylarkAir https://news.example.com/denver-storm?utm_source=mastodon",
            Some("https://mastodon.social/@newsdesk/113000000000000001"),
            8_000,
            60_000,
        ));
        // The feed item: same headline, the article link (tracking parameters differ).
        let rss = s.assign(&on(
            "Skylark Air cancelled every flight out of Denver tonight, thousands stranded",
            Some("https://news.example.com/denver-storm"),
            0,
            120_000,
        ));
        // Re-published later with an edited headline: joined by its article link.
        let again = s.assign(&on(
            "UPDATE: Denver storm grounds Skylark Air fleet",
            Some("https://www.news.example.com/denver-storm/"),
            0,
            600_000,
        ));
        assert!(x.new);
        for (what, a) in [("mastodon", masto), ("rss", rss), ("re-published", again)] {
            assert_eq!(a.story, x.story, "{what} joins the story");
            assert!(!a.new, "{what} is not a new story");
        }
        let story = s.get(x.story).expect("story");
        assert_eq!(story.posts, 4);
        assert_eq!(story.reach, 120_001 + 8_001 + 1 + 1);
        // A different story on the same topic stays apart.
        let other = s.assign(&on(
            "Lost my bag on the Skylark Air flight from Lisbon, nobody answers the phone",
            None,
            50,
            700_000,
        ));
        assert_ne!(other.story, x.story);
    }
}
