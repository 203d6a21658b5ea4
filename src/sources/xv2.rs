//! X (Twitter) API v2: filtered-stream events, search and lookup response pages, and
//! twarc-flattened tweets, one JSON object per line.
//!
//! - `data` (one tweet, or an array of them) gives one item per tweet; authors come from
//!   `includes.users` (`username` is the handle), topics from `matching_rules[].tag`.
//!   `includes.tweets` are the referenced tweets, context for `data`, and are not emitted.
//! - User objects in `data` (a users lookup page) are `Skipped { kind: "x_user" }`.
//! - A line with `errors` and no `data` is an API status message (an operational
//!   disconnect, a rule error): `Skipped { kind: "x_error" }`, one per line. It is not bad
//!   input, so it does not belong in the dead-letter table; the skip count keeps it visible
//!   in the ingest report. `errors` beside `data` are partial errors about expansions
//!   (a deleted pinned tweet) and do not affect the tweets.
//! - A page with only `meta` (a search with no results) is `Skipped { kind: "x_meta" }`.
//! - Tweets are validated one by one: a bad tweet is rejected, its page's other tweets land.

use std::collections::HashMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{failure, opt, shape_error, Id, Str};
use super::{reject, skipped, validate, Item, Reject};
use crate::model::{Author, Mention};

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    includes: Option<Includes<'a>>,
    #[serde(borrow)]
    matching_rules: Option<Vec<Rule<'a>>>,
    errors: Option<IgnoredAny>,
    meta: Option<IgnoredAny>,
    // A twarc-flattened tweet has its fields at the top level.
    id: Option<IgnoredAny>,
    text: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Includes<'a> {
    #[serde(borrow)]
    users: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct Rule<'a> {
    #[serde(borrow)]
    tag: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow)]
    id: Option<Id<'a>>,
    #[serde(borrow)]
    username: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    verified: Option<bool>,
    #[serde(borrow)]
    verified_type: Option<Str<'a>>,
    public_metrics: Option<UserMetrics>,
}

#[derive(Deserialize)]
struct UserMetrics {
    followers_count: Option<u64>,
}

#[derive(Deserialize)]
struct Tweet<'a> {
    #[serde(borrow)]
    id: Option<Id<'a>>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(borrow)]
    created_at: Option<Str<'a>>,
    #[serde(borrow)]
    author_id: Option<Id<'a>>,
    #[serde(borrow)]
    lang: Option<Str<'a>>,
    #[serde(borrow)]
    conversation_id: Option<Id<'a>>,
    #[serde(borrow)]
    in_reply_to_user_id: Option<Id<'a>>,
    #[serde(borrow)]
    referenced_tweets: Option<Vec<Reference<'a>>>,
    /// Posts over 280 characters: `text` is cut, the full text is here.
    #[serde(borrow)]
    note_tweet: Option<Note<'a>>,
    /// Present on user objects, which share `data` with tweets in lookup pages.
    #[serde(borrow)]
    username: Option<Str<'a>>,
    /// twarc's flattened output puts the expanded author inline.
    #[serde(borrow)]
    author: Option<User<'a>>,
}

#[derive(Deserialize)]
struct Reference<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    id: Option<Id<'a>>,
}

#[derive(Deserialize)]
struct Note<'a> {
    #[serde(borrow)]
    text: Option<Str<'a>>,
}

pub(crate) fn parse(
    raw: &str,
    now_ms: i64,
    emit: &mut dyn FnMut(Item),
) -> Result<(), serde_json::Error> {
    let env = match serde_json::from_str::<Envelope>(raw) {
        Ok(e) => e,
        Err(e) => {
            emit(failure::<Envelope>(raw, e)?);
            return Ok(());
        }
    };
    let topics: Vec<String> = env
        .matching_rules
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| opt(r.tag))
        .collect();
    let users = index_users(env.includes.and_then(|i| i.users).unwrap_or_default());
    let ctx = Context {
        users,
        topics,
        now_ms,
    };

    if let Some(data) = env.data {
        let body = data.get().trim_start();
        if body.starts_with('[') {
            match serde_json::from_str::<Vec<&RawValue>>(data.get()) {
                Ok(tweets) => {
                    for t in tweets {
                        emit(tweet(t.get(), &ctx));
                    }
                }
                Err(e) => emit(reject(
                    Reject::MalformedRecord,
                    format!("`data`: {}", super::json::message(&e)),
                )),
            }
        } else {
            emit(tweet(data.get(), &ctx));
        }
    } else if env.errors.is_some() {
        emit(skipped("x_error"));
    } else if env.id.is_some() && env.text.is_some() {
        emit(tweet(raw, &ctx));
    } else if env.meta.is_some() {
        emit(skipped("x_meta"));
    } else {
        emit(reject(
            Reject::UnsupportedRecord,
            "no `data`, `errors` or `meta`: not an X API v2 response or stream event",
        ));
    }
    Ok(())
}

struct Context<'a> {
    users: HashMap<String, User<'a>>,
    topics: Vec<String>,
    now_ms: i64,
}

/// `includes.users` by id. A user object that does not parse only costs its tweets their
/// author details, so it is left out rather than failing the page.
fn index_users<'a>(raw: Vec<&'a RawValue>) -> HashMap<String, User<'a>> {
    raw.into_iter()
        .filter_map(|r| serde_json::from_str::<User>(r.get()).ok())
        .filter_map(|u| Some((u.id.clone()?.into_string(), u)))
        .collect()
}

fn tweet(raw: &str, ctx: &Context<'_>) -> Item {
    let t = match serde_json::from_str::<Tweet>(raw) {
        Ok(t) => t,
        Err(_) => {
            return reject(
                Reject::MalformedRecord,
                format!("tweet: {}", shape_error::<Tweet>(raw)),
            )
        }
    };
    if t.username.is_some() && t.text.is_none() {
        return skipped("x_user");
    }
    let Some(id) = t.id.map(Id::into_string).filter(|s| !s.is_empty()) else {
        return reject(Reject::MissingField, "tweet has no `id`");
    };
    let Some(text) = t.note_tweet.and_then(|n| n.text).or(t.text) else {
        return reject(Reject::MissingField, format!("tweet {id} has no `text`"));
    };
    let Some(created) = t.created_at else {
        return reject(
            Reject::MissingField,
            format!("tweet {id} has no `created_at` (request it with tweet.fields=created_at)"),
        );
    };
    let Some(created_at) = super::parse_rfc3339_ms(created.as_str()) else {
        return reject(
            Reject::BadTimestamp,
            format!(
                "tweet {id}: `created_at` {:?} is not an RFC 3339 time",
                super::snippet(created.as_str(), 60)
            ),
        );
    };
    let author_id = t.author_id.map(Id::into_string);
    let user = t
        .author
        .as_ref()
        .or_else(|| author_id.as_ref().and_then(|a| ctx.users.get(a)));
    let author = match user {
        Some(u) => Author {
            handle: u
                .username
                .as_ref()
                .map(|s| s.as_str().to_string())
                .or_else(|| author_id.clone()),
            name: u.name.as_ref().and_then(|s| super::non_empty(s.as_str())),
            followers: u.public_metrics.as_ref().and_then(|m| m.followers_count),
            verified: u.verified == Some(true)
                || u.verified_type
                    .as_ref()
                    .is_some_and(|v| matches!(v.as_str(), "business" | "government")),
        },
        // Without the expansion the id is the only stable handle we have.
        None => Author {
            handle: author_id.clone(),
            ..Author::default()
        },
    };
    let url = match user.and_then(|u| u.username.as_ref()) {
        Some(name) => format!("https://x.com/{}/status/{id}", name.as_str()),
        None => format!("https://x.com/i/web/status/{id}"),
    };
    let replied_to = t
        .referenced_tweets
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.kind.as_ref().is_some_and(|k| k.as_str() == "replied_to"))
        .and_then(|r| r.id)
        .map(Id::into_string);
    // A reply whose references were not requested still names its thread's root.
    let in_reply_to = replied_to.or_else(|| {
        t.in_reply_to_user_id.as_ref()?;
        t.conversation_id.map(Id::into_string).filter(|c| *c != id)
    });
    validate(
        Mention {
            source: "x".into(),
            source_id: id,
            channel: "x".into(),
            created_at,
            text: super::text::decode_basic_entities(text.as_str()).into_owned(),
            author,
            url: Some(url),
            lang: t.lang.and_then(|l| language(l.as_str())),
            in_reply_to,
            topics: ctx.topics.clone(),
            inbound: None,
        },
        ctx.now_ms,
    )
}

/// X's `lang`, except its pseudo-codes (undetermined, media-only, hashtags-only, quote-only
/// ...) which name no language: enrichment detects the language of those instead.
fn language(code: &str) -> Option<String> {
    match code {
        "" | "und" | "qme" | "qam" | "qct" | "qht" | "qst" | "zxx" | "art" => None,
        c => Some(c.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::collect;
    use super::super::Format;
    use super::*;

    fn items(input: &str) -> Vec<Item> {
        collect(input.as_bytes(), Format::XV2)
            .into_iter()
            .map(|l| l.item)
            .collect()
    }

    const STREAM: &str = r#"{"data": {"author_id": "3026521093", "in_reply_to_user_id": "601852746", "conversation_id": "1377266697850257410", "id": "1377650093109743620", "created_at": "2021-04-01T15:52:32.000Z", "text": "@PoliceMutual Well done &amp; thanks", "referenced_tweets": [{"type": "replied_to", "id": "1377266697850257410"}], "lang": "en"}, "includes": {"users": [{"id": "3026521093", "username": "sheelaghb18", "name": "Sheelagh", "verified": false, "public_metrics": {"followers_count": 837}}, {"id": "601852746", "username": "PoliceMutual", "name": "Police Mutual", "verified": true, "public_metrics": {"followers_count": 8227}}]}, "matching_rules": [{"id": 1377649934414049282, "tag": "dogs"}, {"id": "2", "tag": null}]}"#;

    #[test]
    fn stream_event() {
        let out = items(STREAM);
        let [Item::Mention(m)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(m.source, "x");
        assert_eq!(m.channel, "x");
        assert_eq!(m.source_id, "1377650093109743620");
        assert_eq!(m.text, "@PoliceMutual Well done & thanks");
        assert_eq!(m.created_at, 1_617_292_352_000);
        assert_eq!(m.author.handle.as_deref(), Some("sheelaghb18"));
        assert_eq!(m.author.name.as_deref(), Some("Sheelagh"));
        assert_eq!(m.author.followers, Some(837));
        assert!(!m.author.verified);
        assert_eq!(
            m.url.as_deref(),
            Some("https://x.com/sheelaghb18/status/1377650093109743620")
        );
        assert_eq!(m.in_reply_to.as_deref(), Some("1377266697850257410"));
        assert_eq!(m.topics, vec!["dogs"]);
        assert_eq!(m.lang.as_deref(), Some("en"));
    }

    #[test]
    fn search_page_emits_each_tweet_and_rejects_bad_ones() {
        let page = r#"{"data": [{"id": "1", "text": "a", "created_at": "2021-09-22T16:25:51.000Z", "author_id": "9", "lang": "qst"}, {"id": "2", "text": "b", "author_id": "9"}, {"id": "3", "text": 5, "created_at": "2021-09-22T16:25:51.000Z"}, {"id": "4", "text": "d", "created_at": "2021-09-22T16:25:51.000Z", "note_tweet": {"text": "the long version"}}], "includes": {"users": [{"id": "9", "username": "nine", "verified_type": "business", "public_metrics": {"followers_count": "bad"}}, {"id": "9", "username": "nine", "verified_type": "government"}]}, "meta": {"result_count": 4}}"#;
        let out = items(page);
        assert_eq!(out.len(), 4, "{out:?}");
        let Item::Mention(a) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(a.lang, None, "qst is not a language");
        assert_eq!(a.author.handle.as_deref(), Some("nine"));
        assert!(a.author.verified);
        assert!(
            matches!(&out[1], Item::Rejected { reason: Reject::MissingField, detail } if detail.contains("created_at"))
        );
        assert!(
            matches!(&out[2], Item::Rejected { reason: Reject::MalformedRecord, detail } if detail.contains("`text`")),
            "{:?}",
            out[2]
        );
        let Item::Mention(d) = &out[3] else { panic!() };
        assert_eq!(d.text, "the long version");
        assert_eq!(d.author.handle, None);
        assert_eq!(d.url.as_deref(), Some("https://x.com/i/web/status/4"));
    }

    #[test]
    fn errors_users_meta_and_strangers() {
        let out = items(
            "{\"errors\": [{\"title\": \"operational-disconnect\", \"disconnect_type\": \"UpstreamOperationalDisconnect\"}]}\n\
             {\"data\": [{\"id\": \"1\", \"username\": \"u\", \"name\": \"U\"}], \"errors\": [{\"title\": \"Not Found Error\"}]}\n\
             {\"meta\": {\"result_count\": 0}}\n\
             {\"hello\": 1}\n",
        );
        assert_eq!(out[0], skipped("x_error"));
        assert_eq!(out[1], skipped("x_user"));
        assert_eq!(out[2], skipped("x_meta"));
        assert!(matches!(
            &out[3],
            Item::Rejected {
                reason: Reject::UnsupportedRecord,
                ..
            }
        ));
    }

    #[test]
    fn flattened_tweet_and_conversation_fallback() {
        let line = r#"{"id": "5", "text": "hi", "created_at": "2021-09-22T16:25:51.000Z", "author_id": "7", "author": {"id": "7", "username": "seven", "public_metrics": {"followers_count": 3}}, "in_reply_to_user_id": "8", "conversation_id": "4", "source": "Twitter Web App"}"#;
        let out = items(line);
        let [Item::Mention(m)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(m.author.handle.as_deref(), Some("seven"));
        assert_eq!(m.author.followers, Some(3));
        assert_eq!(m.in_reply_to.as_deref(), Some("4"));
    }

    #[test]
    fn truncated_last_line() {
        let input = format!("{STREAM}\n{{\"data\": {{\"author_id\": \"1021159080151404544\"");
        let out = collect(input.as_bytes(), Format::XV2);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].line, 2);
        assert!(
            matches!(
                &out[1].item,
                Item::Rejected {
                    reason: Reject::TruncatedLine,
                    ..
                }
            ),
            "{out:?}"
        );
    }
}
