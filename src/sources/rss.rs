//! RSS 0.9x/1.0/2.0 and Atom feeds, through `feed-rs`: one item per entry, numbered by its
//! position in the feed (the XML parser does not report lines).
//!
//! - id: the entry's `guid` / Atom `id`, else its first link. An entry with neither has no
//!   stable identity, so it is rejected rather than given a random id that would store it
//!   again on every poll.
//! - text: the title, a blank line, then the summary (RSS `description`) or, without one,
//!   the content. HTML bodies become plain text; titles get their entities decoded, since
//!   many feeds escape them twice.
//! - created_at: `published` (`pubDate`), else `updated`; an entry with neither (or with a
//!   date no parser understands) is rejected.
//! - author: the first author's name; url: the entry's `alternate` link, else its first.
//! - A document that is not a feed, or not well-formed XML, is one reject on line 0.

use std::io::BufRead;

use feed_rs::model::{Entry, Feed, Text};
use feed_rs::parser::{self, ParseErrorKind, ParseFeedError};

use super::text::{decode_entities, html_to_text};
use super::{reject, validate, Item, Located, ReadFailure, Reject};
use crate::model::{Author, Mention};

pub(crate) fn read<R: BufRead>(
    reader: R,
    now_ms: i64,
    sink: &mut dyn FnMut(Located),
) -> Result<(), ReadFailure> {
    let parser = parser::Builder::new()
        // No random fallback ids: an entry without guid or link is rejected instead.
        .id_generator(|links, _title, _base| {
            links.first().map(|l| l.href.clone()).unwrap_or_default()
        })
        .build();
    let feed = match parser.parse(reader) {
        Ok(f) => f,
        Err(ParseFeedError::IoError(error)) => return Err(ReadFailure { line: 0, error }),
        Err(e) => {
            let (reason, detail) = match &e {
                ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => (
                    Reject::UnsupportedRecord,
                    "not a feed: the XML root is not <rss>, <feed> or <rdf:RDF>".to_string(),
                ),
                _ => (
                    Reject::MalformedXml,
                    format!("the feed could not be parsed: {e}"),
                ),
            };
            sink(Located {
                line: 0,
                item: reject(reason, super::snippet(&detail, 300)),
            });
            return Ok(());
        }
    };
    let feed_lang = feed.language.clone();
    let Feed { entries, .. } = feed;
    for (i, entry) in entries.into_iter().enumerate() {
        let item = convert(entry, feed_lang.as_deref(), now_ms);
        sink(Located {
            line: i as u64 + 1,
            item,
        });
    }
    Ok(())
}

fn convert(e: Entry, feed_lang: Option<&str>, now_ms: i64) -> Item {
    let id = e.id.trim().to_string();
    if id.is_empty() {
        return reject(Reject::MissingField, "entry has no guid/id and no link");
    }
    let Some(created) = e.published.or(e.updated) else {
        return reject(
            Reject::MissingField,
            format!(
                "entry {}: no parseable published/pubDate or updated date",
                super::snippet(&id, 120)
            ),
        );
    };
    let title = e.title.as_ref().map(text_of).unwrap_or_default();
    let body = match (&e.summary, &e.content) {
        (Some(s), _) if !s.content.trim().is_empty() => text_of(s),
        (_, Some(c)) => match &c.body {
            Some(b) if is_html(&c.content_type) => html_to_text(b),
            Some(b) => b.trim().to_string(),
            None => String::new(),
        },
        _ => String::new(),
    };
    let text = match (title.is_empty(), body.is_empty()) {
        (false, false) => format!("{title}\n\n{body}"),
        (false, true) => title,
        _ => body,
    };
    let url = e
        .links
        .iter()
        .find(|l| l.rel.as_deref().map_or(true, |r| r == "alternate"))
        .or_else(|| e.links.first())
        .map(|l| l.href.clone());
    let author = e
        .authors
        .first()
        .map(|p| Author {
            name: super::non_empty(p.name.trim()),
            ..Author::default()
        })
        .unwrap_or_default();
    validate(
        Mention {
            source: "rss".into(),
            source_id: id,
            channel: "rss".into(),
            created_at: created.timestamp_millis(),
            text,
            author,
            url,
            lang: e
                .language
                .or_else(|| feed_lang.map(str::to_string))
                .and_then(super::non_empty),
            in_reply_to: None,
            topics: Vec::new(),
            inbound: None,
        },
        now_ms,
    )
}

/// `text/html` and `application/xhtml+xml` (Atom's `type="xhtml"`). feed-rs does not
/// re-export its media type, hence the detour through `Display`.
fn is_html(mime: &impl std::fmt::Display) -> bool {
    mime.to_string().contains("html")
}

/// A title or summary as plain text: HTML converted, plain text entity-decoded.
fn text_of(t: &Text) -> String {
    if is_html(&t.content_type) {
        html_to_text(&t.content)
    } else {
        decode_entities(t.content.trim()).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::collect;
    use super::super::Format;
    use super::*;

    #[test]
    fn rss2_items() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title><language>en-US</language>
<item><title>Board &amp;#39;games&amp;#39;</title><link>https://e.x/a?utm=1&amp;b=2</link><guid isPermaLink="false">p-1</guid>
<pubDate>Tue, 20 Sep 2022 11:00:17 +0000</pubDate><dc:creator><![CDATA[James Austin]]></dc:creator>
<description><![CDATA[<figure><img src="x.jpg" alt="pic"></figure><p>How to <b>teach</b> it.</p><script>bad()</script>]]></description></item>
<item><title>No date</title><guid>p-2</guid></item>
<item><description>no id and no link</description><pubDate>Tue, 20 Sep 2022 11:00:17 +0000</pubDate></item>
<item><title>Linked</title><link>https://e.x/c</link><pubDate>Tue, 20 Sep 2022 11:00:17 GMT</pubDate></item>
</channel></rss>"#;
        let out = collect(xml.as_bytes(), Format::Rss);
        assert_eq!(out.len(), 4, "{out:#?}");
        let Item::Mention(m) = &out[0].item else {
            panic!("{:?}", out[0])
        };
        assert_eq!(out[0].line, 1);
        assert_eq!(m.source, "rss");
        assert_eq!(m.channel, "rss");
        assert_eq!(m.source_id, "p-1");
        assert_eq!(m.text, "Board 'games'\n\nHow to teach it.");
        assert_eq!(m.created_at, 1_663_671_617_000);
        assert_eq!(m.author.name.as_deref(), Some("James Austin"));
        assert_eq!(m.url.as_deref(), Some("https://e.x/a?utm=1&b=2"));
        assert_eq!(m.lang.as_deref(), Some("en-us"));
        assert!(
            matches!(&out[1].item, Item::Rejected { reason: Reject::MissingField, detail } if detail.contains("p-2"))
        );
        assert!(
            matches!(&out[2].item, Item::Rejected { reason: Reject::MissingField, detail } if detail.contains("no guid"))
        );
        let Item::Mention(m) = &out[3].item else {
            panic!("{:?}", out[3])
        };
        assert_eq!(
            m.source_id, "https://e.x/c",
            "the link stands in for a missing guid"
        );
        assert_eq!(out[3].line, 4);
    }

    #[test]
    fn atom_entries() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>r/rust</title>
<entry><author><name>/u/llogiq</name></author><id>t3_glvkc5</id><updated>2020-05-18T05:44:47+00:00</updated>
<link href="https://www.reddit.com/r/rust/comments/glvkc5/x/"/><title>Hey Rustaceans!</title>
<content type="html">&lt;div class=&quot;md&quot;&gt;&lt;p&gt;Mystified about strings?&lt;/p&gt; &lt;p&gt;Ask here&amp;#39;s how&lt;/p&gt;&lt;/div&gt;</content></entry>
</feed>"#;
        let out = collect(xml.as_bytes(), Format::Rss);
        let [Located {
            line: 1,
            item: Item::Mention(m),
        }] = out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert_eq!(m.source_id, "t3_glvkc5");
        assert_eq!(
            m.created_at, 1_589_780_687_000,
            "updated stands in for published"
        );
        assert_eq!(
            m.text,
            "Hey Rustaceans!\n\nMystified about strings?\nAsk here's how"
        );
        assert_eq!(m.author.name.as_deref(), Some("/u/llogiq"));
        assert_eq!(
            m.url.as_deref(),
            Some("https://www.reddit.com/r/rust/comments/glvkc5/x/")
        );
    }

    #[test]
    fn broken_documents() {
        let out = collect(b"<html><body>not a feed</body></html>", Format::Rss);
        assert!(
            matches!(
                &out[0].item,
                Item::Rejected {
                    reason: Reject::UnsupportedRecord,
                    ..
                }
            ),
            "{out:?}"
        );
        let out = collect(
            b"<rss version=\"2.0\"><channel><item><title>x</titl></item>",
            Format::Rss,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            matches!(
                &out[0].item,
                Item::Rejected {
                    reason: Reject::MalformedXml,
                    ..
                }
            ),
            "{out:?}"
        );
        assert_eq!(out[0].line, 0);
        let out = collect(b"{\"not\": \"xml\"}", Format::Rss);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(matches!(&out[0].item, Item::Rejected { .. }), "{out:?}");
    }
}
