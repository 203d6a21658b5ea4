//! Mastodon: REST status entities (a JSON array, or one per line) and streaming events
//! (`{"event": "update", "payload": ...}` as the WebSocket API sends them; the payload is a
//! JSON string on the wire and an object in some relays' internal shape; both are read).
//!
//! - `update` and `status.update` (an edit) carry a status: a mention. `delete` carries the
//!   status id: an [`Item::Delete`]. Other events (`notification`, `filters_changed`,
//!   `announcement`...) are `Skipped { kind: <event> }`.
//! - The id is the status `id`, because that is what `delete` events name. It is local to
//!   the server we read from, so one post seen through two servers is stored twice; that is
//!   the price of honouring deletes. A status without `id` falls back to its `uri`.
//! - A boost (`reblog` set) stands for the boosted status, which is what gets stored.
//! - `content` is HTML and becomes plain text; a content warning (`spoiler_text`) is kept
//!   in front of it. Hashtags stay in the text and are not topics.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{failure, message, opt, shape_error, Id, Str};
use super::{reject, skipped, validate, Item, Reject};
use crate::model::{Author, Mention};

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow)]
    event: Option<Str<'a>>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Status<'a> {
    #[serde(borrow)]
    id: Option<Id<'a>>,
    #[serde(borrow)]
    uri: Option<Str<'a>>,
    #[serde(borrow)]
    url: Option<Str<'a>>,
    #[serde(borrow)]
    created_at: Option<Str<'a>>,
    #[serde(borrow)]
    content: Option<Str<'a>>,
    #[serde(borrow)]
    spoiler_text: Option<Str<'a>>,
    #[serde(borrow)]
    language: Option<Str<'a>>,
    #[serde(borrow)]
    in_reply_to_id: Option<Id<'a>>,
    #[serde(borrow)]
    account: Option<Account<'a>>,
    #[serde(borrow)]
    reblog: Option<Box<Status<'a>>>,
}

#[derive(Deserialize)]
struct Account<'a> {
    #[serde(borrow)]
    acct: Option<Str<'a>>,
    #[serde(borrow)]
    username: Option<Str<'a>>,
    #[serde(borrow)]
    display_name: Option<Str<'a>>,
    /// Signed: some servers send -1 when the account hides its counts.
    followers_count: Option<i64>,
}

pub(crate) fn parse(
    raw: &str,
    now_ms: i64,
    emit: &mut dyn FnMut(Item),
) -> Result<(), serde_json::Error> {
    let probe = match serde_json::from_str::<Probe>(raw) {
        Ok(p) => p,
        Err(e) => {
            emit(failure::<Probe>(raw, e)?);
            return Ok(());
        }
    };
    let item = match probe.event {
        None => status(raw, now_ms),
        Some(event) => match (event.as_str(), probe.payload) {
            (_, None) => reject(
                Reject::MissingField,
                format!("`{}` event has no `payload`", event.as_str()),
            ),
            ("update" | "status.update", Some(p)) => payload(p, |s| status(s, now_ms)),
            ("delete", Some(p)) => payload(p, |id| match id.trim() {
                "" => reject(Reject::MissingField, "`delete` event with an empty id"),
                id => Item::Delete {
                    source: "mastodon".into(),
                    source_id: id.to_string(),
                },
            }),
            (other, Some(_)) => skipped(other.to_string()),
        },
    };
    emit(item);
    Ok(())
}

/// Streaming payloads are JSON strings holding JSON (a status, or a bare id for `delete`);
/// relays that decode them pass the object itself. Hands `f` the inner text either way.
fn payload(p: &RawValue, f: impl FnOnce(&str) -> Item) -> Item {
    if p.get().trim_start().starts_with('"') {
        match serde_json::from_str::<Str>(p.get()) {
            Ok(s) => f(s.as_str()),
            Err(e) => reject(Reject::MalformedJson, format!("`payload`: {}", message(&e))),
        }
    } else {
        f(p.get())
    }
}

fn status(raw: &str, now_ms: i64) -> Item {
    let s = match serde_json::from_str::<Status>(raw) {
        Ok(s) => s,
        Err(e) if e.is_data() => {
            return reject(Reject::MalformedRecord, shape_error::<Status>(raw))
        }
        // Only reachable for a string payload: the line itself already parsed.
        Err(e) => {
            return reject(
                Reject::MalformedJson,
                format!("status in `payload`: {}", message(&e)),
            )
        }
    };
    let s = match s.reblog {
        Some(original) => *original,
        None => s,
    };
    let Some(id) =
        s.id.map(Id::into_string)
            .filter(|i| !i.is_empty())
            .or_else(|| opt(s.uri.clone()))
    else {
        return reject(Reject::MissingField, "status has no `id` or `uri`");
    };
    let Some(created) = s.created_at else {
        return reject(
            Reject::MissingField,
            format!("status {id} has no `created_at`"),
        );
    };
    let Some(created_at) = super::parse_rfc3339_ms(created.as_str()) else {
        return reject(
            Reject::BadTimestamp,
            format!(
                "status {id}: `created_at` {:?} is not an RFC 3339 time",
                super::snippet(created.as_str(), 60)
            ),
        );
    };
    let Some(content) = s.content else {
        return reject(
            Reject::MissingField,
            format!("status {id} has no `content`"),
        );
    };
    let body = super::text::html_to_text(content.as_str());
    let text = match opt(s.spoiler_text) {
        Some(warning) if body.is_empty() => warning,
        Some(warning) => format!("{warning}\n\n{body}"),
        None => body,
    };
    let author = s
        .account
        .map(|a| Author {
            handle: opt(a.acct).or_else(|| opt(a.username)),
            name: opt(a.display_name),
            followers: a.followers_count.and_then(|n| u64::try_from(n).ok()),
            verified: false,
        })
        .unwrap_or_default();
    validate(
        Mention {
            source: "mastodon".into(),
            source_id: id,
            channel: "mastodon".into(),
            created_at,
            text,
            author,
            url: opt(s.url).or_else(|| opt(s.uri)),
            lang: opt(s.language),
            in_reply_to: s
                .in_reply_to_id
                .map(Id::into_string)
                .and_then(super::non_empty),
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

    const STATUS: &str = r#"{"id":"114870361818376588","created_at":"2025-07-17T20:03:40.518Z","in_reply_to_id":"114870358786845464","spoiler_text":"","language":"en","uri":"https://mastodon.social/users/Deglassco/statuses/1","url":"https://mastodon.social/@Deglassco/1","content":"<p>More Secondary Sources </p><p>Krin&#39;s <a href=\"https://x/tags/Bahn\" class=\"mention hashtag\">#<span>Bahn</span></a></p>","reblog":null,"account":{"id":"1","username":"Deglassco","acct":"Deglassco","display_name":"Deg Lassco","followers_count":9724},"tags":[{"name":"bahn"}]}"#;

    fn items(input: &str) -> Vec<Item> {
        collect(input.as_bytes(), Format::Mastodon)
            .into_iter()
            .map(|l| l.item)
            .collect()
    }

    #[test]
    fn status_entity() {
        let out = items(STATUS);
        let [Item::Mention(m)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(m.source, "mastodon");
        assert_eq!(m.channel, "mastodon");
        assert_eq!(m.source_id, "114870361818376588");
        assert_eq!(m.text, "More Secondary Sources\nKrin's #Bahn");
        assert_eq!(m.created_at, 1_752_782_620_518);
        assert_eq!(m.author.handle.as_deref(), Some("Deglassco"));
        assert_eq!(m.author.name.as_deref(), Some("Deg Lassco"));
        assert_eq!(m.author.followers, Some(9724));
        assert_eq!(
            m.url.as_deref(),
            Some("https://mastodon.social/@Deglassco/1")
        );
        assert_eq!(m.lang.as_deref(), Some("en"));
        assert_eq!(m.in_reply_to.as_deref(), Some("114870358786845464"));
        assert!(m.topics.is_empty(), "hashtags are not topics");
    }

    #[test]
    fn streaming_events_string_and_object_payloads() {
        let as_string = serde_json::to_string(STATUS).unwrap();
        let input = format!(
            "{{\"event\":\"update\",\"payload\":{as_string}}}\n\
             {{\"event\":\"update\",\"payload\":{STATUS}}}\n\
             {{\"event\":\"delete\",\"payload\":\"104061222412800865\"}}\n\
             {{\"event\":\"notification\",\"payload\":\"{{}}\"}}\n\
             {{\"event\":\"update\",\"payload\":\"{{not json\"}}\n\
             {{\"event\":\"update\"}}\n\
             {{\"event\":\"status.update\",\"payload\":{STATUS}}}\n"
        );
        let out = items(&input);
        assert_eq!(out.len(), 7, "{out:#?}");
        assert!(matches!(&out[0], Item::Mention(m) if m.source_id == "114870361818376588"));
        assert_eq!(out[0], out[1]);
        assert_eq!(
            out[2],
            Item::Delete {
                source: "mastodon".into(),
                source_id: "104061222412800865".into()
            }
        );
        assert_eq!(out[3], skipped("notification"));
        assert!(
            matches!(
                &out[4],
                Item::Rejected {
                    reason: Reject::MalformedJson,
                    ..
                }
            ),
            "{:?}",
            out[4]
        );
        assert!(matches!(
            &out[5],
            Item::Rejected {
                reason: Reject::MissingField,
                ..
            }
        ));
        assert!(matches!(&out[6], Item::Mention(_)));
    }

    #[test]
    fn array_reblog_spoiler_and_bad_statuses() {
        let input = r#"[
  {"id":"2","created_at":"2025-07-17T20:03:40Z","content":"","account":{"acct":"booster@x.y","followers_count":-1},
   "reblog":{"id":"1","created_at":"2025-07-17T19:00:00Z","content":"<p>original</p>","spoiler_text":"CW: food","account":{"acct":"author@x.y"}}},
  {"id":"3","created_at":"July 17","content":"<p>x</p>"},
  {"id":"4","created_at":"2025-07-17T20:03:40Z"},
  {"uri":"https://x.y/statuses/5","created_at":"2025-07-17T20:03:40Z","content":"<p>no id</p>","account":{"followers_count":-1}},
  {"id":"6","created_at":"2025-07-17T20:03:40Z","content":["x"]}
]"#;
        let out = collect(input.as_bytes(), Format::Mastodon);
        assert_eq!(out.len(), 5, "{out:#?}");
        let Item::Mention(m) = &out[0].item else {
            panic!()
        };
        assert_eq!(out[0].line, 2);
        assert_eq!(m.source_id, "1", "a boost stands for the boosted status");
        assert_eq!(m.author.handle.as_deref(), Some("author@x.y"));
        assert_eq!(m.text, "CW: food\n\noriginal");
        assert_eq!(out[1].line, 4);
        assert!(matches!(
            &out[1].item,
            Item::Rejected {
                reason: Reject::BadTimestamp,
                ..
            }
        ));
        assert!(
            matches!(&out[2].item, Item::Rejected { reason: Reject::MissingField, detail } if detail.contains("content"))
        );
        let Item::Mention(m) = &out[3].item else {
            panic!("{:?}", out[3])
        };
        assert_eq!(m.source_id, "https://x.y/statuses/5");
        assert_eq!(m.author.followers, None, "-1 means hidden");
        assert!(
            matches!(&out[4].item, Item::Rejected { reason: Reject::MalformedRecord, detail } if detail.contains("`content`"))
        );
    }
}
