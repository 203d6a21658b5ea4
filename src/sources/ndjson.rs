//! Sunward's own NDJSON: one mention per line. The spec is in `docs/formats.md`.
//!
//! This is the format of the ingest benchmark (1M lines at >= 100k mentions/s end to end),
//! so the record borrows its strings from the line and the happy path allocates only the
//! mention's own fields.

use serde::Deserialize;

use super::json::{failure, opt, Id, Str};
use super::{reject, validate, Item, Reject};
use crate::model::{Author, Mention};

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    source: Option<Str<'a>>,
    #[serde(borrow)]
    id: Option<Id<'a>>,
    #[serde(borrow)]
    created_at: Option<Str<'a>>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(borrow)]
    channel: Option<Str<'a>>,
    #[serde(borrow)]
    author: Option<AuthorRecord<'a>>,
    #[serde(borrow)]
    url: Option<Str<'a>>,
    #[serde(borrow)]
    lang: Option<Str<'a>>,
    #[serde(borrow)]
    in_reply_to: Option<Id<'a>>,
    #[serde(borrow)]
    topics: Option<Vec<Str<'a>>>,
    inbound: Option<bool>,
}

#[derive(Deserialize)]
struct AuthorRecord<'a> {
    #[serde(borrow)]
    handle: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    followers: Option<u64>,
    verified: Option<bool>,
}

pub(crate) fn parse(
    raw: &str,
    now_ms: i64,
    emit: &mut dyn FnMut(Item),
) -> Result<(), serde_json::Error> {
    let item = match serde_json::from_str::<Record>(raw) {
        Ok(r) => convert(r, now_ms),
        Err(e) => failure::<Record>(raw, e)?,
    };
    emit(item);
    Ok(())
}

fn convert(r: Record<'_>, now_ms: i64) -> Item {
    let Some(source) = opt(r.source) else {
        return reject(Reject::MissingField, "missing `source`");
    };
    let Some(id) = r.id.map(Id::into_string).filter(|s| !s.trim().is_empty()) else {
        return reject(Reject::MissingField, "missing `id`");
    };
    let Some(created) = r.created_at else {
        return reject(Reject::MissingField, "missing `created_at`");
    };
    let Some(created_at) = super::parse_rfc3339_ms(created.as_str()) else {
        return reject(
            Reject::BadTimestamp,
            format!(
                "`created_at` {:?} is not an RFC 3339 time",
                super::snippet(created.as_str(), 60)
            ),
        );
    };
    let Some(text) = r.text else {
        return reject(Reject::MissingField, "missing `text`");
    };
    let channel = opt(r.channel).unwrap_or_else(|| source.clone());
    let author = r
        .author
        .map(|a| Author {
            handle: opt(a.handle),
            name: opt(a.name),
            followers: a.followers,
            verified: a.verified.unwrap_or(false),
        })
        .unwrap_or_default();
    let topics = r
        .topics
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| super::non_empty(t.as_str().trim()))
        .collect();
    validate(
        Mention {
            source,
            source_id: id,
            channel,
            created_at,
            text: text.into_string(),
            author,
            url: opt(r.url),
            lang: opt(r.lang),
            in_reply_to: r
                .in_reply_to
                .map(Id::into_string)
                .and_then(super::non_empty),
            topics,
            inbound: r.inbound,
        },
        now_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::{collect, NOW};
    use super::super::{Format, Located};
    use super::*;

    fn one(line: &str) -> Item {
        let out = collect(line.as_bytes(), Format::Ndjson);
        assert_eq!(out.len(), 1, "{out:?}");
        out.into_iter().next().unwrap().item
    }

    fn rejected(line: &str) -> (Reject, String) {
        match one(line) {
            Item::Rejected { reason, detail } => (reason, detail),
            other => panic!("expected a reject for {line}, got {other:?}"),
        }
    }

    #[test]
    fn full_record() {
        let line = r#"{"source":"zendesk","id":"42","created_at":"2025-03-01T10:00:00.250Z","text":"My order \"never\" came 😡","channel":"email","author":{"handle":"ann","name":"Ann","followers":120,"verified":true},"url":"https://e.x/42","lang":"en","in_reply_to":"41","topics":["orders"," shipping ",""],"inbound":true,"extra":{"ignored":[1,2]}}"#;
        let Item::Mention(m) = one(line) else {
            panic!()
        };
        assert_eq!(m.source, "zendesk");
        assert_eq!(m.source_id, "42");
        assert_eq!(m.channel, "email");
        assert_eq!(m.created_at, 1_740_823_200_250);
        assert_eq!(m.text, "My order \"never\" came 😡");
        assert_eq!(
            m.author,
            Author {
                handle: Some("ann".into()),
                name: Some("Ann".into()),
                followers: Some(120),
                verified: true
            }
        );
        assert_eq!(m.url.as_deref(), Some("https://e.x/42"));
        assert_eq!(m.lang.as_deref(), Some("en"));
        assert_eq!(m.in_reply_to.as_deref(), Some("41"));
        assert_eq!(m.topics, vec!["orders", "shipping"]);
        assert_eq!(m.inbound, Some(true));
    }

    #[test]
    fn minimal_record_and_nulls() {
        // What `sunward demo` writes: absent options as null.
        let line = r#"{"source":"x","id":7,"created_at":"2025-03-01T10:00:00+01:00","text":"","lang":null,"inbound":null,"author":{}}"#;
        let Item::Mention(m) = one(line) else {
            panic!()
        };
        assert_eq!(m.channel, "x", "channel defaults to source");
        assert_eq!(m.source_id, "7", "integer ids are accepted");
        assert_eq!(m.created_at, 1_740_819_600_000);
        assert_eq!(m.lang, None);
        assert_eq!(m.inbound, None);
        assert_eq!(m.author, Author::default());
    }

    #[test]
    fn missing_fields_say_which() {
        for (field, line) in [
            (
                "source",
                r#"{"id":"1","created_at":"2025-01-01T00:00:00Z","text":"t"}"#,
            ),
            (
                "source",
                r#"{"source":" ","id":"1","created_at":"2025-01-01T00:00:00Z","text":"t"}"#,
            ),
            (
                "id",
                r#"{"source":"s","created_at":"2025-01-01T00:00:00Z","text":"t"}"#,
            ),
            ("created_at", r#"{"source":"s","id":"1","text":"t"}"#),
            (
                "text",
                r#"{"source":"s","id":"1","created_at":"2025-01-01T00:00:00Z"}"#,
            ),
        ] {
            let (reason, detail) = rejected(line);
            assert_eq!(reason, Reject::MissingField, "{line}");
            assert!(detail.contains(&format!("`{field}`")), "{detail}");
        }
    }

    #[test]
    fn wrong_types_name_the_field() {
        for (path, line) in [
            (
                "text",
                r#"{"source":"s","id":"1","created_at":"2025-01-01T00:00:00Z","text":5}"#,
            ),
            (
                "author.followers",
                r#"{"source":"s","id":"1","created_at":"2025-01-01T00:00:00Z","text":"t","author":{"followers":"many"}}"#,
            ),
            (
                "topics[1]",
                r#"{"source":"s","id":"1","created_at":"2025-01-01T00:00:00Z","text":"t","topics":["a",2]}"#,
            ),
            (
                "inbound",
                r#"{"source":"s","id":"1","created_at":"2025-01-01T00:00:00Z","text":"t","inbound":"yes"}"#,
            ),
            (
                "created_at",
                r#"{"source":"s","id":"1","created_at":1700000000000,"text":"t"}"#,
            ),
            (
                "id",
                r#"{"source":"s","id":1.5,"created_at":"2025-01-01T00:00:00Z","text":"t"}"#,
            ),
        ] {
            let (reason, detail) = rejected(line);
            assert_eq!(reason, Reject::MalformedRecord, "{line}");
            assert!(detail.starts_with(&format!("field `{path}`: ")), "{detail}");
        }
    }

    #[test]
    fn dates_and_limits() {
        let base = |created: &str, text: &str| {
            format!(r#"{{"source":"s","id":"1","created_at":"{created}","text":"{text}"}}"#)
        };
        let (r, d) = rejected(&base("01/02/2025", "t"));
        assert_eq!(r, Reject::BadTimestamp);
        assert!(d.contains("01/02/2025"), "{d}");
        assert_eq!(
            rejected(&base("2027-01-01T00:00:00Z", "t")).0,
            Reject::FutureTimestamp
        );
        assert_eq!(
            rejected(&base("2005-12-31T23:59:59Z", "t")).0,
            Reject::TooOld
        );
        let long = "a".repeat(64 * 1024 + 1);
        let (r, d) = rejected(&base("2025-01-01T00:00:00Z", &long));
        assert_eq!(r, Reject::TextTooLong);
        assert!(d.contains("65537 bytes"), "{d}");
    }

    #[test]
    fn a_file_with_bad_lines_still_lands_the_rest() {
        let input = b"{\"source\":\"s\",\"id\":\"1\",\"created_at\":\"2025-01-01T00:00:00Z\",\"text\":\"a\"}\n\
not json\n\
\n\
{\"source\":\"s\",\"id\":\"2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"text\":\"caf\xe9\"}\n\
{\"source\":\"s\",\"id\":\"3\",\"created_at\":\"2025-01-01T00:00:00Z\",\"text\":\"c\"}\n\
{\"source\":\"s\",\"id\":\"4\",\"created_at\":\"2025-01-01T00:00:00Z\",\"te";
        let out = collect(input, Format::Ndjson);
        let summary: Vec<(u64, String)> = out
            .iter()
            .map(|Located { line, item }| {
                let what = match item {
                    Item::Mention(m) => format!("mention {}", m.source_id),
                    Item::Rejected { reason, .. } => reason.as_str().to_string(),
                    other => format!("{other:?}"),
                };
                (*line, what)
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, "mention 1".to_string()),
                (2, "malformed_json".into()),
                (4, "invalid_utf8".into()),
                (5, "mention 3".into()),
                (6, "truncated_line".into()),
            ]
        );
        let _ = NOW;
    }
}
