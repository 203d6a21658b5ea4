//! The domain types that flow through ingest: a normalized [`Mention`] and its enrichment.

use serde::{Deserialize, Serialize};

/// Earliest accepted event time: 2006-01-01T00:00:00Z (before any social network we read).
pub const MIN_EVENT_MS: i64 = 1_136_073_600_000;
/// Tolerated clock skew for event times in the future.
pub const FUTURE_SLACK_MS: i64 = 10 * 60 * 1000;
/// Longest post text we accept; longer records are rejected, not truncated silently.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Author {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verified: bool,
}

/// A post, comment, reply or feed item, normalized from any source format.
///
/// Identity is `(source, source_id)`: ingesting the same record twice stores it once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    /// Where it came from: `x`, `twcs`, `mastodon`, `bluesky`, `reddit`, `rss`, or the
    /// `source` field of Sunward's own NDJSON.
    pub source: String,
    /// The id the source gave it (tweet id, status id, at:// URI, reddit fullname, item guid).
    pub source_id: String,
    /// Network it appeared on, for rollups: `x`, `mastodon`, `bluesky`, `reddit`, `rss`, ...
    pub channel: String,
    /// Event time, milliseconds since the Unix epoch (UTC).
    pub created_at: i64,
    pub text: String,
    #[serde(default)]
    pub author: Author,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Language as given by the source (BCP-47-ish, e.g. `en`); enrichment fills it if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The `source_id` of the post this one replies to, in the same source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// Topics given by the source (X matching rules, NDJSON `topics`, hashtags are NOT topics).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// `Some(true)` = from a customer to the brand, `Some(false)` = the brand's own post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative,
    Neutral,
    Positive,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Neutral => "neutral",
            Label::Positive => "positive",
        }
    }
    pub fn parse(s: &str) -> Option<Label> {
        match s.trim().to_ascii_lowercase().as_str() {
            "negative" | "neg" => Some(Label::Negative),
            "neutral" | "neu" => Some(Label::Neutral),
            "positive" | "pos" => Some(Label::Positive),
            _ => None,
        }
    }
}

/// What enrichment adds to a mention before it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// -1 (very negative) .. 1 (very positive).
    pub score: f32,
    pub label: Label,
    /// Language code (ISO 639-1 where known), `und` when undetermined.
    pub lang: String,
    /// Author influence 0..100 (log scale of followers, verified bonus).
    pub influence: u8,
    /// Topics: the mention's own plus every matching listening query, deduplicated.
    pub topics: Vec<String>,
}

/// A mention as stored and served: the normalized record plus its enrichment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMention {
    pub id: i64,
    #[serde(flatten)]
    pub mention: Mention,
    pub sentiment: f32,
    pub label: Label,
    pub influence: u8,
}
