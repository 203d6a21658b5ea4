//! Reddit listing JSON: what `/r/{sub}/new.json`, `/r/{sub}/comments.json` and the front
//! page return (`{"kind": "Listing", "data": {"children": [...]}}`), or an array of
//! listings (a comment page: the post, then its comment tree).
//!
//! - `t3` (post): text = title, a blank line, selftext. `t1` (comment): text = body, and
//!   `in_reply_to` = `parent_id`. Comment trees in `replies` are walked.
//! - The id is the fullname (`t3_48f0th`), which is what `parent_id` refers to.
//! - Removed or deleted content (`[removed]`, `[deleted]`) is `Skipped { kind: "removed" }`:
//!   it is a placeholder, not something anyone said. `more` stubs and other kinds (`t2`
//!   accounts, `t5` subreddits) are `Skipped { kind: <kind> }`.
//! - Reddit escapes `&`, `<`, `>` in text as entities (unless `raw_json=1`); they are decoded.
//! - A JSON document that is not a listing, such as a recorded HTTP cassette, is one
//!   `UnsupportedRecord` reject saying so.
//!
//! Each item carries the line its child object starts on.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{message, opt, shape_error, LineCounter, Str};
use super::{reject, skipped, validate, Item, Located, Reject};
use crate::model::{Author, Mention};

#[derive(Deserialize)]
struct Thing<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ListingData<'a> {
    #[serde(borrow)]
    children: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    title: Option<Str<'a>>,
    #[serde(borrow)]
    selftext: Option<Str<'a>>,
    #[serde(borrow)]
    body: Option<Str<'a>>,
    #[serde(borrow)]
    author: Option<Str<'a>>,
    created_utc: Option<f64>,
    #[serde(borrow)]
    permalink: Option<Str<'a>>,
    #[serde(borrow)]
    parent_id: Option<Str<'a>>,
    #[serde(borrow)]
    link_id: Option<Str<'a>>,
    /// A listing of replies, or `""` when there are none.
    #[serde(borrow)]
    replies: Option<&'a RawValue>,
}

/// Nesting deeper than this is not a real comment tree; stop rather than overflow the stack.
const MAX_DEPTH: usize = 64;

pub(crate) fn read(bytes: &[u8], now_ms: i64, sink: &mut dyn FnMut(Located)) {
    let body = super::strip_bom(bytes);
    let mut walker = Walker {
        lines: LineCounter::new(bytes),
        now_ms,
        sink,
    };
    let starts_array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let parsed = if starts_array {
        serde_json::from_slice::<Vec<&RawValue>>(body)
    } else {
        serde_json::from_slice::<&RawValue>(body).map(|r| vec![r])
    };
    let things = match parsed {
        Ok(t) => t,
        Err(e) => {
            let (reason, what) = if e.is_eof() {
                (
                    Reject::TruncatedLine,
                    "the document ends before its JSON is complete",
                )
            } else {
                (Reject::MalformedJson, "the document is not valid JSON")
            };
            let detail = format!("{what}: {} at column {}", message(&e), e.column());
            (walker.sink)(Located {
                line: e.line() as u64,
                item: reject(reason, detail),
            });
            return;
        }
    };
    for raw in things {
        let top = serde_json::from_str::<Thing>(raw.get()).ok();
        match top {
            Some(Thing {
                kind: Some(kind),
                data: Some(data),
            }) if kind.as_str() == "Listing" => {
                walker.listing(data, 0);
            }
            _ => {
                let line = walker.lines.line_of(raw.get().as_ptr());
                (walker.sink)(Located {
                    line,
                    item: reject(
                        Reject::UnsupportedRecord,
                        "not a Reddit listing (no `\"kind\": \"Listing\"`); a recorded HTTP cassette must be \
                         unpacked to the response body first",
                    ),
                });
            }
        }
    }
}

struct Walker<'s> {
    lines: LineCounter<'s>,
    now_ms: i64,
    sink: &'s mut dyn FnMut(Located),
}

impl Walker<'_> {
    fn emit(&mut self, at: &RawValue, item: Item) {
        let line = self.lines.line_of(at.get().as_ptr());
        (self.sink)(Located { line, item });
    }

    fn listing(&mut self, data: &RawValue, depth: usize) {
        let children = match serde_json::from_str::<ListingData>(data.get()) {
            Ok(d) => d.children.unwrap_or_default(),
            Err(_) => {
                let detail = format!("listing: {}", shape_error::<ListingData>(data.get()));
                return self.emit(data, reject(Reject::MalformedRecord, detail));
            }
        };
        for child in children {
            self.child(child, depth);
        }
    }

    fn child(&mut self, raw: &RawValue, depth: usize) {
        let thing = match serde_json::from_str::<Thing>(raw.get()) {
            Ok(t) => t,
            Err(_) => {
                return self.emit(
                    raw,
                    reject(Reject::MalformedRecord, shape_error::<Thing>(raw.get())),
                )
            }
        };
        let Some(kind) = thing.kind else {
            return self.emit(raw, reject(Reject::MissingField, "child has no `kind`"));
        };
        let Some(data) = thing.data else {
            return self.emit(raw, reject(Reject::MissingField, "child has no `data`"));
        };
        match kind.as_str() {
            "t3" | "t1" => {}
            "Listing" if depth < MAX_DEPTH => return self.listing(data, depth + 1),
            other => return self.emit(raw, skipped(other.to_string())),
        }
        let entry = match serde_json::from_str::<Entry>(data.get()) {
            Ok(e) => e,
            Err(_) => {
                return self.emit(
                    raw,
                    reject(Reject::MalformedRecord, shape_error::<Entry>(data.get())),
                )
            }
        };
        let replies = entry.replies;
        let item = convert(kind.as_str(), entry, self.now_ms);
        self.emit(raw, item);
        // Replies come after their parent, as in the document.
        if let Some(r) = replies.filter(|r| r.get().trim_start().starts_with('{')) {
            if depth >= MAX_DEPTH {
                return self.emit(
                    r,
                    reject(
                        Reject::UnsupportedRecord,
                        "comment tree nested too deep; replies skipped",
                    ),
                );
            }
            match serde_json::from_str::<Thing>(r.get()) {
                Ok(Thing { data: Some(d), .. }) => self.listing(d, depth + 1),
                _ => self.emit(
                    r,
                    reject(Reject::MalformedRecord, "`replies` is not a listing"),
                ),
            }
        }
    }
}

fn convert(kind: &str, e: Entry<'_>, now_ms: i64) -> Item {
    let id = opt(e.id);
    let Some(name) = opt(e.name).or_else(|| id.as_ref().map(|i| format!("{kind}_{i}"))) else {
        return reject(
            Reject::MissingField,
            format!("{kind} has no `name` or `id`"),
        );
    };
    let Some(created) = e.created_utc else {
        return reject(Reject::MissingField, format!("{name} has no `created_utc`"));
    };
    let Some(created_at) = super::time::secs_f64_to_ms(created) else {
        return reject(
            Reject::BadTimestamp,
            format!("{name}: `created_utc` {created} is not a time"),
        );
    };
    let decode = |s: Str<'_>| super::text::decode_basic_entities(s.as_str()).into_owned();
    let text = if kind == "t3" {
        let Some(title) = e.title else {
            return reject(Reject::MissingField, format!("{name} has no `title`"));
        };
        let title = decode(title);
        match e.selftext.map(decode).filter(|s| !s.trim().is_empty()) {
            Some(body) if is_removed(&body) => return skipped("removed"),
            Some(body) => format!("{title}\n\n{body}"),
            None => title,
        }
    } else {
        let Some(body) = e.body else {
            return reject(Reject::MissingField, format!("{name} has no `body`"));
        };
        let body = decode(body);
        if is_removed(&body) {
            return skipped("removed");
        }
        body
    };
    let url = match (opt(e.permalink), kind) {
        (Some(p), _) if p.starts_with('/') => Some(format!("https://www.reddit.com{p}")),
        (Some(p), _) => Some(p),
        // Old comment listings have no permalink; this form resolves on reddit.com.
        (None, "t1") => opt(e.link_id).zip(id).map(|(link, i)| {
            format!(
                "https://www.reddit.com/comments/{}/_/{i}/",
                link.trim_start_matches("t3_")
            )
        }),
        (None, _) => None,
    };
    validate(
        Mention {
            source: "reddit".into(),
            source_id: name,
            channel: "reddit".into(),
            created_at,
            text,
            author: Author {
                handle: opt(e.author).filter(|a| a != "[deleted]"),
                ..Author::default()
            },
            url,
            lang: None,
            in_reply_to: if kind == "t1" { opt(e.parent_id) } else { None },
            topics: Vec::new(),
            inbound: None,
        },
        now_ms,
    )
}

fn is_removed(text: &str) -> bool {
    matches!(text.trim(), "[removed]" | "[deleted]")
}

#[cfg(test)]
mod tests {
    use super::super::tests::collect;
    use super::super::Format;
    use super::*;

    #[test]
    fn posts_comments_and_trees() {
        let doc = r#"[
{"kind": "Listing", "data": {"children": [
  {"kind": "t3", "data": {"name": "t3_48f0th", "id": "48f0th", "title": "Pokémon &amp; police", "selftext": "shot &lt;regularly&gt;", "author": "Kevm4str", "created_utc": 1456814968.0, "permalink": "/r/Showerthoughts/comments/48f0th/x/"}}
]}},
{"kind": "Listing", "data": {"children": [
  {"kind": "t1", "data": {"name": "t1_a", "id": "a", "body": "top", "author": "u1", "created_utc": 1456814969.5, "parent_id": "t3_48f0th", "link_id": "t3_48f0th",
    "replies": {"kind": "Listing", "data": {"children": [
      {"kind": "t1", "data": {"name": "t1_b", "id": "b", "body": "[removed]", "author": "[deleted]", "created_utc": 1456814970, "parent_id": "t1_a", "link_id": "t3_48f0th", "replies": ""}},
      {"kind": "more", "data": {"count": 3, "children": ["c", "d"]}}
    ]}}}},
  {"kind": "t1", "data": {"name": "t1_e", "body": "no date"}},
  {"kind": "t1", "data": {"name": "t1_f", "body": 5, "created_utc": 1456814970}}
]}}
]"#;
        let out = collect(doc.as_bytes(), Format::Reddit);
        assert_eq!(out.len(), 6, "{out:#?}");
        let Item::Mention(p) = &out[0].item else {
            panic!("{:?}", out[0])
        };
        assert_eq!(out[0].line, 3);
        assert_eq!(p.source, "reddit");
        assert_eq!(p.source_id, "t3_48f0th");
        assert_eq!(p.text, "Pokémon & police\n\nshot <regularly>");
        assert_eq!(p.created_at, 1_456_814_968_000);
        assert_eq!(p.author.handle.as_deref(), Some("Kevm4str"));
        assert_eq!(
            p.url.as_deref(),
            Some("https://www.reddit.com/r/Showerthoughts/comments/48f0th/x/")
        );
        assert_eq!(p.in_reply_to, None);
        let Item::Mention(c) = &out[1].item else {
            panic!("{:?}", out[1])
        };
        assert_eq!(out[1].line, 6);
        assert_eq!(c.in_reply_to.as_deref(), Some("t3_48f0th"));
        assert_eq!(c.created_at, 1_456_814_969_500);
        assert_eq!(
            c.url.as_deref(),
            Some("https://www.reddit.com/comments/48f0th/_/a/")
        );
        assert_eq!(out[2].item, skipped("removed"));
        assert_eq!(out[2].line, 8);
        assert_eq!(out[3].item, skipped("more"));
        assert!(
            matches!(&out[4].item, Item::Rejected { reason: Reject::MissingField, detail } if detail.contains("created_utc"))
        );
        assert!(
            matches!(&out[5].item, Item::Rejected { reason: Reject::MalformedRecord, detail } if detail.contains("`body`"))
        );
    }

    #[test]
    fn not_a_listing() {
        let out = collect(br#"{"interactions": [{"request": {}}]}"#, Format::Reddit);
        assert_eq!(out.len(), 1);
        assert!(
            matches!(&out[0].item, Item::Rejected { reason: Reject::UnsupportedRecord, detail } if detail.contains("cassette"))
        );
        let out = collect(
            b"{\"kind\": \"Listing\", \"data\": {\"children\": [",
            Format::Reddit,
        );
        assert!(
            matches!(
                &out[0].item,
                Item::Rejected {
                    reason: Reject::TruncatedLine,
                    ..
                }
            ),
            "{out:?}"
        );
        let out = collect(b"{\"kind\": \"Listing\" \"data\": 1}", Format::Reddit);
        assert!(
            matches!(
                &out[0].item,
                Item::Rejected {
                    reason: Reject::MalformedJson,
                    ..
                }
            ),
            "{out:?}"
        );
    }
}
