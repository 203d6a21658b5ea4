//! Bluesky Jetstream v1 events, one JSON object per line.
//!
//! - `commit` with operation `create` (or `update`) of an `app.bsky.feed.post` record is a
//!   mention. Its id is the post's AT URI `at://{did}/app.bsky.feed.post/{rkey}`, which is
//!   also what replies and deletes refer to. Posts are not editable in Bluesky today; an
//!   `update` is stored like a create (the store keeps the first version it saw).
//! - `commit` `delete` of a post is an [`Item::Delete`] of that URI.
//! - Every other commit (likes, reposts, follows, blocks, profile and status records) is
//!   `Skipped { kind: <collection> }`, and `identity`/`account` events are
//!   `Skipped { kind: "identity" | "account" }`: valid, counted, not mentions.
//! - `createdAt` is the time the author's client claims; when it is missing or unparseable
//!   the relay's receive time `time_us` is used instead. A claimed time in the future is
//!   rejected by the shared validation like any other.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{failure, shape_error, Str};
use super::{reject, skipped, validate, Item, Reject};
use crate::model::{Author, Mention};

const POST: &str = "app.bsky.feed.post";

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow)]
    did: Option<Str<'a>>,
    time_us: Option<i64>,
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    commit: Option<Commit<'a>>,
}

#[derive(Deserialize)]
struct Commit<'a> {
    #[serde(borrow)]
    operation: Option<Str<'a>>,
    #[serde(borrow)]
    collection: Option<Str<'a>>,
    #[serde(borrow)]
    rkey: Option<Str<'a>>,
    /// Parsed only for posts: likes and follows are most of the firehose.
    #[serde(borrow)]
    record: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Post<'a> {
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(borrow, rename = "createdAt")]
    created_at: Option<Str<'a>>,
    #[serde(borrow)]
    langs: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    reply: Option<Reply<'a>>,
}

#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(borrow)]
    parent: Option<StrongRef<'a>>,
}

#[derive(Deserialize)]
struct StrongRef<'a> {
    #[serde(borrow)]
    uri: Option<Str<'a>>,
}

pub(crate) fn parse(
    raw: &str,
    now_ms: i64,
    emit: &mut dyn FnMut(Item),
) -> Result<(), serde_json::Error> {
    let item = match serde_json::from_str::<Event>(raw) {
        Ok(e) => convert(e, now_ms),
        Err(e) => failure::<Event>(raw, e)?,
    };
    emit(item);
    Ok(())
}

fn convert(e: Event<'_>, now_ms: i64) -> Item {
    let Some(kind) = e.kind else {
        return reject(Reject::MissingField, "event has no `kind`");
    };
    if kind.as_str() != "commit" {
        return skipped(kind.into_string());
    }
    let Some(commit) = e.commit else {
        return reject(Reject::MissingField, "commit event has no `commit`");
    };
    let Some(collection) = commit.collection else {
        return reject(Reject::MissingField, "commit has no `collection`");
    };
    if collection.as_str() != POST {
        return skipped(collection.into_string());
    }
    let Some(did) = e.did.filter(|d| !d.as_str().is_empty()) else {
        return reject(Reject::MissingField, "post event has no `did`");
    };
    let Some(rkey) = commit.rkey.filter(|r| !r.as_str().is_empty()) else {
        return reject(Reject::MissingField, "post commit has no `rkey`");
    };
    let uri = format!("at://{}/{POST}/{}", did.as_str(), rkey.as_str());
    match commit.operation.as_ref().map(Str::as_str) {
        Some("delete") => {
            return Item::Delete {
                source: "bluesky".into(),
                source_id: uri,
            }
        }
        Some("create" | "update") => {}
        Some(other) => return skipped(format!("{POST}#{other}")),
        None => {
            return reject(
                Reject::MissingField,
                format!("commit of {uri} has no `operation`"),
            )
        }
    }
    let Some(record) = commit.record else {
        return reject(Reject::MissingField, format!("post {uri} has no `record`"));
    };
    let post = match serde_json::from_str::<Post>(record.get()) {
        Ok(p) => p,
        Err(_) => {
            return reject(
                Reject::MalformedRecord,
                format!("post {uri}: record {}", shape_error::<Post>(record.get())),
            )
        }
    };
    let Some(text) = post.text else {
        return reject(Reject::MissingField, format!("post {uri} has no `text`"));
    };
    let claimed = post
        .created_at
        .as_ref()
        .and_then(|c| super::parse_rfc3339_ms(c.as_str()));
    let Some(created_at) = claimed.or_else(|| e.time_us.map(|us| us.div_euclid(1000))) else {
        return reject(
            Reject::BadTimestamp,
            format!(
                "post {uri}: `createdAt` {:?} is not an RFC 3339 time and the event has no `time_us`",
                post.created_at.as_ref().map_or("", |c| c.as_str())
            ),
        );
    };
    let lang = post
        .langs
        .and_then(|l| l.into_iter().next())
        .and_then(|l| super::non_empty(l.into_string()));
    let in_reply_to = post
        .reply
        .and_then(|r| r.parent)
        .and_then(|p| p.uri)
        .and_then(|u| super::non_empty(u.into_string()));
    let did = did.into_string();
    validate(
        Mention {
            source: "bluesky".into(),
            url: Some(format!(
                "https://bsky.app/profile/{did}/post/{}",
                rkey.as_str()
            )),
            source_id: uri,
            channel: "bluesky".into(),
            created_at,
            text: text.into_string(),
            author: Author {
                handle: Some(did),
                ..Author::default()
            },
            lang,
            in_reply_to,
            topics: Vec::new(),
            inbound: None,
        },
        now_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::collect;
    use super::super::Format;
    use super::*;

    fn items(input: &str) -> Vec<Item> {
        collect(input.as_bytes(), Format::Jetstream)
            .into_iter()
            .map(|l| l.item)
            .collect()
    }

    #[test]
    fn post_reply() {
        let line = r#"{"did":"did:plc:o2rolxey6s5k7d4lxcz3inl4","time_us":1783175888130414,"kind":"commit","commit":{"rev":"3mptbypnxeq2i","operation":"create","collection":"app.bsky.feed.post","rkey":"3mptbyp7lu223","record":{"$type":"app.bsky.feed.post","createdAt":"2025-07-04T14:38:07.112Z","langs":["ko"],"reply":{"parent":{"cid":"x","uri":"at://did:plc:i5y2f3gtpjxs3qg6fwgb6jb4/app.bsky.feed.post/3mpt7u2vlgs2c"},"root":{"cid":"x","uri":"at://r"}},"text":"이쁘시네용~~~"},"cid":"bafy"}}"#;
        let out = items(line);
        let [Item::Mention(m)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(m.source, "bluesky");
        assert_eq!(m.channel, "bluesky");
        assert_eq!(
            m.source_id,
            "at://did:plc:o2rolxey6s5k7d4lxcz3inl4/app.bsky.feed.post/3mptbyp7lu223"
        );
        assert_eq!(
            m.url.as_deref(),
            Some("https://bsky.app/profile/did:plc:o2rolxey6s5k7d4lxcz3inl4/post/3mptbyp7lu223")
        );
        assert_eq!(m.text, "이쁘시네용~~~");
        assert_eq!(m.lang.as_deref(), Some("ko"));
        assert_eq!(m.created_at, 1_751_639_887_112);
        assert_eq!(
            m.author.handle.as_deref(),
            Some("did:plc:o2rolxey6s5k7d4lxcz3inl4")
        );
        assert_eq!(
            m.in_reply_to.as_deref(),
            Some("at://did:plc:i5y2f3gtpjxs3qg6fwgb6jb4/app.bsky.feed.post/3mpt7u2vlgs2c")
        );
    }

    #[test]
    fn deletes_skips_and_fallbacks() {
        let input = concat!(
            r#"{"did":"did:plc:a","time_us":1751639887000000,"kind":"commit","commit":{"operation":"delete","collection":"app.bsky.feed.post","rkey":"k1"}}"#,
            "\n",
            r#"{"did":"did:plc:a","time_us":1751639887000000,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"k2","record":{"subject":{}}}}"#,
            "\n",
            r#"{"did":"did:plc:a","time_us":1751639887000000,"kind":"commit","commit":{"operation":"delete","collection":"app.bsky.graph.follow","rkey":"k3"}}"#,
            "\n",
            r#"{"did":"did:plc:a","time_us":1751639887000000,"kind":"identity","identity":{"did":"did:plc:a","seq":1}}"#,
            "\n",
            r#"{"did":"did:plc:a","time_us":1751639887000000,"kind":"account","account":{"active":true}}"#,
            "\n",
            r#"{"did":"did:plc:a","time_us":1751639887123456,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"k4","record":{"text":"no date","createdAt":"sometime"}}}"#,
            "\n",
            r#"{"did":"did:plc:a","kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"k5","record":{"text":"no date"}}}"#,
            "\n",
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"k6","record":{"createdAt":"2025-07-04T14:38:07.112Z"}}}"#,
            "\n",
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"k7","record":{"text":["not","text"]}}}"#,
            "\n",
            r#"{"did":"did:plc:a","time_us":"soon","kind":"commit"}"#,
            "\n",
        );
        let out = items(input);
        assert_eq!(out.len(), 10, "{out:#?}");
        assert_eq!(
            out[0],
            Item::Delete {
                source: "bluesky".into(),
                source_id: "at://did:plc:a/app.bsky.feed.post/k1".into()
            }
        );
        assert_eq!(out[1], skipped("app.bsky.feed.like"));
        assert_eq!(out[2], skipped("app.bsky.graph.follow"));
        assert_eq!(out[3], skipped("identity"));
        assert_eq!(out[4], skipped("account"));
        let Item::Mention(m) = &out[5] else {
            panic!("{:?}", out[5])
        };
        assert_eq!(m.created_at, 1_751_639_887_123, "falls back to time_us");
        assert!(
            matches!(
                &out[6],
                Item::Rejected {
                    reason: Reject::BadTimestamp,
                    ..
                }
            ),
            "{:?}",
            out[6]
        );
        assert!(
            matches!(&out[7], Item::Rejected { reason: Reject::MissingField, detail } if detail.contains("`text`"))
        );
        assert!(
            matches!(&out[8], Item::Rejected { reason: Reject::MalformedRecord, detail } if detail.contains("`text`")),
            "{:?}",
            out[8]
        );
        assert!(
            matches!(&out[9], Item::Rejected { reason: Reject::MalformedRecord, detail } if detail.contains("`time_us`")),
            "{:?}",
            out[9]
        );
    }
}
