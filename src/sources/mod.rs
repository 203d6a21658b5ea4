//! Parsers for real feed formats. Each turns raw bytes into [`Item`]s; none touches the store.
//!
//! [`read_path`] and [`read_bytes`] are the only entry points. They handle what is common to
//! every format (binary input, empty input, a UTF-8 byte-order mark), then hand the stream
//! to the format's reader:
//!
//! - line formats (`ndjson`, `x-v2`, `jetstream`, `mastodon`) stream one line at a time
//!   through the driver in `json.rs`, which also turns invalid UTF-8, malformed JSON, a truncated
//!   last line and overlong lines into per-line rejects. A file whose first byte is `[`, or
//!   whose first line is a lone `{` (pretty-printed JSON), is read whole as a JSON document
//!   instead; its records keep the line numbers they start on.
//! - document formats (`twcs` CSV, `reddit` listings, `rss`/Atom) read the input whole (the
//!   CSV reader still streams).
//!
//! Every record ends up as exactly one [`Located`] item (an X search page yields one per
//! tweet): a mention, a delete, a counted skip or a reject with a reason. Nothing is
//! dropped silently except blank lines, which are not records. The shared checks on a
//! finished mention (time window, text size) live in [`validate`].
//!
//! `docs/formats.md` documents what each format maps to and why.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::model::{Mention, FUTURE_SLACK_MS, MAX_TEXT_BYTES, MIN_EVENT_MS};

mod jetstream;
mod json;
mod mastodon;
mod ndjson;
mod reddit;
mod rss;
mod sniff;
pub mod text;
mod time;
mod twcs;
mod xv2;

pub use time::parse_rfc3339_ms;

/// One outcome of parsing: something to store, delete, count-and-skip, or reject.
// Mentions are nearly every item; boxing them would cost an allocation each to save
// memory only on the rare others.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Mention(Mention),
    /// The source retracted a post (Jetstream delete, Mastodon `delete`, X compliance).
    Delete {
        source: String,
        source_id: String,
    },
    /// A valid record that is not a mention (a like, a follow, an identity event...).
    /// Counted per `kind` and skipped.
    Skipped {
        kind: String,
    },
    /// A bad record: counted, kept in the dead-letter table with its reason.
    Rejected {
        reason: Reject,
        detail: String,
    },
}

/// Why a record was rejected. The string form (`as_str`) is the key in ingest reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    MalformedJson,
    InvalidUtf8,
    TruncatedLine,
    MissingField,
    BadTimestamp,
    FutureTimestamp,
    TooOld,
    TextTooLong,
    BinaryInput,
    EmptyInput,
    MalformedRecord,
    UnsupportedRecord,
    /// A line longer than [`MAX_LINE_BYTES`]: skipped without buffering it.
    LineTooLong,
    /// An RSS/Atom document the XML parser could not read.
    MalformedXml,
}

impl Reject {
    pub fn as_str(self) -> &'static str {
        match self {
            Reject::MalformedJson => "malformed_json",
            Reject::InvalidUtf8 => "invalid_utf8",
            Reject::TruncatedLine => "truncated_line",
            Reject::MissingField => "missing_field",
            Reject::BadTimestamp => "bad_timestamp",
            Reject::FutureTimestamp => "future_timestamp",
            Reject::TooOld => "too_old",
            Reject::TextTooLong => "text_too_long",
            Reject::BinaryInput => "binary_input",
            Reject::EmptyInput => "empty_input",
            Reject::MalformedRecord => "malformed_record",
            Reject::UnsupportedRecord => "unsupported_record",
            Reject::LineTooLong => "line_too_long",
            Reject::MalformedXml => "malformed_xml",
        }
    }
}

/// An item with the 1-based line (or record) number it came from, for error reports.
/// Line 0 means the input as a whole (empty input, binary input, an unreadable document).
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub line: u64,
    pub item: Item,
}

/// Longest line the line formats accept. An X search page of 500 expanded tweets is a few
/// MiB; anything far past that is not a record, and buffering it could exhaust memory.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Bytes read ahead to sniff the format. Large enough to see past the first record of an
/// X search page (its `includes` come after 100 tweets) in most files.
const HEAD_BYTES: usize = 64 * 1024;
/// Bytes checked for binary content.
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// The input formats Sunward reads. See `docs/formats.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// X API v2 filtered-stream events and search/lookup response pages, one JSON per line.
    XV2,
    /// The "Customer Support on Twitter" CSV (Kaggle `twcs.csv` and derivatives).
    Twcs,
    /// Mastodon status entities (array or one per line) and streaming events.
    Mastodon,
    /// Bluesky Jetstream v1 events, one JSON per line.
    Jetstream,
    /// Reddit listing JSON (`kind: Listing`).
    Reddit,
    /// RSS 0.9x/1.0/2.0 and Atom feeds.
    Rss,
    /// Sunward's own NDJSON (spec in `docs/formats.md`).
    Ndjson,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::XV2,
        Format::Twcs,
        Format::Mastodon,
        Format::Jetstream,
        Format::Reddit,
        Format::Rss,
        Format::Ndjson,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::XV2 => "x-v2",
            Format::Twcs => "twcs",
            Format::Mastodon => "mastodon",
            Format::Jetstream => "jetstream",
            Format::Reddit => "reddit",
            Format::Rss => "rss",
            Format::Ndjson => "ndjson",
        }
    }

    /// "x-v2, twcs, ..." for messages that list the choices.
    pub fn names() -> String {
        Format::ALL.map(Format::name).join(", ")
    }

    /// A guess from the file extension alone, for inputs whose content cannot be sniffed
    /// (empty or binary files). Only extensions that name one format count.
    fn by_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "rss" | "atom" | "xml" => Some(Format::Rss),
            "csv" => Some(Format::Twcs),
            "ndjson" => Some(Format::Ndjson),
            _ => None,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `--format` named something that is not a format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {given:?}; valid formats are: {}", Format::names())]
pub struct UnknownFormat {
    pub given: String,
}

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownFormat {
                given: s.to_string(),
            })
    }
}

/// Input that cannot be used at all. Everything else is reported per record as [`Item`]s.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is a directory; pass the files inside it", path.display())]
    IsDirectory { path: PathBuf },
    #[error("cannot read {} after line {line}: {source}", path.display())]
    Read {
        path: PathBuf,
        /// Lines fully read before the failure; their items were already delivered.
        line: u64,
        #[source]
        source: io::Error,
    },
    #[error(
        "could not detect the format of {}; pass --format with one of {}",
        path.display(),
        Format::names()
    )]
    Undetected { path: PathBuf },
}

/// Sniffs the format from the first bytes of a file (`head`, up to 64 KiB is plenty).
///
/// Content decides: XML with an `rss`/`feed`/`RDF` root is `rss`; a CSV header with
/// `tweet_id`, `author_id` and `inbound` is `twcs`; for JSON the keys of the first record
/// decide (`kind: Listing` = reddit, `did`+`time_us`+`kind` = jetstream, `event`+`payload`
/// or `account`+`content`+`uri` = mastodon, `data` with `includes`/`matching_rules`/`meta`
/// or tweet fields = x-v2, `source`+`id`+`created_at`+`text` = ndjson). The extension is
/// only consulted when there is no content to sniff (an empty file).
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let body = strip_bom(head);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Format::by_extension(path);
    }
    sniff::sniff(body)
}

/// Reads a file in `format` (sniffed when `None`) and hands every record to `sink`.
///
/// Returns the format used. Fails only when the file cannot be opened or read, or its
/// format cannot be detected; bad records are `Item::Rejected`, never errors. For an
/// empty or binary file the single reject is delivered and the returned format is the one
/// given, else a guess from the extension, else `ndjson`.
pub fn read_path(
    path: &Path,
    format: Option<Format>,
    now_ms: i64,
    sink: &mut dyn FnMut(Located),
) -> Result<Format, SourceError> {
    let open_err = |source| SourceError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(open_err)?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(SourceError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    let mut head = Vec::with_capacity(HEAD_BYTES);
    (&mut file)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|source| SourceError::Read {
            path: path.to_path_buf(),
            line: 0,
            source,
        })?;
    let complete = head.len() < HEAD_BYTES;

    if let Some(loc) = unusable(&head, complete) {
        sink(loc);
        return Ok(format
            .or_else(|| Format::by_extension(path))
            .unwrap_or(Format::Ndjson));
    }
    let format = match format.or_else(|| detect(path, &head)) {
        Some(f) => f,
        None => {
            return Err(SourceError::Undetected {
                path: path.to_path_buf(),
            })
        }
    };
    // The head was consumed from the file; chain it back in front of the rest.
    let reader = BufReader::with_capacity(256 * 1024, Cursor::new(head).chain(file));
    dispatch(reader, format, now_ms, sink).map_err(|f| SourceError::Read {
        path: path.to_path_buf(),
        line: f.line,
        source: f.error,
    })?;
    Ok(format)
}

/// Parses an in-memory body (HTTP API, webhooks, tests) in a known format.
pub fn read_bytes(bytes: &[u8], format: Format, now_ms: i64, sink: &mut dyn FnMut(Located)) {
    let head = &bytes[..bytes.len().min(HEAD_BYTES)];
    if let Some(loc) = unusable(head, head.len() == bytes.len()) {
        sink(loc);
        return;
    }
    // Reading from a slice cannot fail; if it ever did, say so rather than lose it.
    if let Err(f) = dispatch(bytes, format, now_ms, sink) {
        sink(Located {
            line: f.line,
            item: reject(Reject::MalformedRecord, format!("read failed: {}", f.error)),
        });
    }
}

/// An I/O failure part-way through a stream, with the last line fully read.
#[derive(Debug)]
pub(crate) struct ReadFailure {
    pub line: u64,
    pub error: io::Error,
}

fn dispatch<R: BufRead>(
    reader: R,
    format: Format,
    now_ms: i64,
    sink: &mut dyn FnMut(Located),
) -> Result<(), ReadFailure> {
    match format {
        Format::Ndjson => json::read_records(reader, ndjson::parse, now_ms, sink),
        Format::XV2 => json::read_records(reader, xv2::parse, now_ms, sink),
        Format::Jetstream => json::read_records(reader, jetstream::parse, now_ms, sink),
        Format::Mastodon => json::read_records(reader, mastodon::parse, now_ms, sink),
        Format::Twcs => twcs::read(reader, now_ms, sink),
        Format::Reddit => {
            let bytes = read_all(reader)?;
            reddit::read(&bytes, now_ms, sink);
            Ok(())
        }
        Format::Rss => rss::read(reader, now_ms, sink),
    }
}

fn read_all<R: Read>(mut reader: R) -> Result<Vec<u8>, ReadFailure> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|error| ReadFailure { line: 0, error })?;
    Ok(bytes)
}

/// The one reject for input that holds no records at all: binary data, or nothing.
/// `complete` says whether `head` is the whole input.
fn unusable(head: &[u8], complete: bool) -> Option<Located> {
    if let Some(why) = sniff::binary_reason(&head[..head.len().min(BINARY_SNIFF_BYTES)]) {
        return Some(Located {
            line: 0,
            item: reject(Reject::BinaryInput, why),
        });
    }
    if complete && strip_bom(head).iter().all(u8::is_ascii_whitespace) {
        let detail = if head.is_empty() {
            "the input is empty (0 bytes)".to_string()
        } else {
            format!("the input has only whitespace ({} bytes)", head.len())
        };
        return Some(Located {
            line: 0,
            item: reject(Reject::EmptyInput, detail),
        });
    }
    None
}

pub(crate) fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

pub(crate) fn reject(reason: Reject, detail: impl Into<String>) -> Item {
    Item::Rejected {
        reason,
        detail: detail.into(),
    }
}

pub(crate) fn skipped(kind: impl Into<String>) -> Item {
    Item::Skipped { kind: kind.into() }
}

/// At most `max` bytes of `s` (cut on a char boundary, with an ellipsis), for details that
/// quote input: a detail is a hint for a person, not a copy of the record.
pub(crate) fn snippet(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The checks every mention passes whatever its format: it has an identity, its event
/// time is between 2006 and now (plus [`FUTURE_SLACK_MS`] of clock skew), and its text is
/// at most [`MAX_TEXT_BYTES`]. NUL characters are removed from the text fields because
/// PostgreSQL cannot store them and they carry no meaning in a post.
pub fn validate(mut m: Mention, now_ms: i64) -> Item {
    if m.source.is_empty() {
        return reject(Reject::MissingField, "`source` is empty");
    }
    if m.source_id.is_empty() {
        return reject(Reject::MissingField, "the record's id is empty");
    }
    if m.created_at > now_ms.saturating_add(FUTURE_SLACK_MS) {
        return reject(
            Reject::FutureTimestamp,
            format!(
                "created_at {} is in the future (now is {})",
                time::iso(m.created_at),
                time::iso(now_ms)
            ),
        );
    }
    if m.created_at < MIN_EVENT_MS {
        return reject(
            Reject::TooOld,
            format!(
                "created_at {} is before 2006-01-01",
                time::iso(m.created_at)
            ),
        );
    }
    if m.text.len() > MAX_TEXT_BYTES {
        return reject(
            Reject::TextTooLong,
            format!(
                "text is {} bytes; the limit is {MAX_TEXT_BYTES}",
                m.text.len()
            ),
        );
    }
    for s in [&mut m.text, &mut m.source_id, &mut m.channel] {
        remove_nul(s);
    }
    for s in [
        &mut m.author.handle,
        &mut m.author.name,
        &mut m.url,
        &mut m.in_reply_to,
    ]
    .into_iter()
    .flatten()
    {
        remove_nul(s);
    }
    Item::Mention(m)
}

fn remove_nul(s: &mut String) {
    if memchr::memchr(0, s.as_bytes()).is_some() {
        s.retain(|c| c != '\0');
    }
}

/// `Some(s)` unless it is empty or only whitespace: sources send `""` for "none".
pub(crate) fn non_empty(s: impl Into<String>) -> Option<String> {
    let s = s.into();
    if s.trim().is_empty() {
        None
    } else {
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Author;

    pub(crate) const NOW: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    pub(crate) fn collect(bytes: &[u8], format: Format) -> Vec<Located> {
        let mut out = Vec::new();
        read_bytes(bytes, format, NOW, &mut |l| out.push(l));
        out
    }

    fn mention() -> Mention {
        Mention {
            source: "x".into(),
            source_id: "1".into(),
            channel: "x".into(),
            created_at: NOW - 1000,
            text: "hi".into(),
            author: Author::default(),
            ..Mention::default()
        }
    }

    fn reason(item: &Item) -> Option<Reject> {
        match item {
            Item::Rejected { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!("X-V2".parse::<Format>(), Ok(Format::XV2));
        let err = "tweets".parse::<Format>().unwrap_err().to_string();
        assert!(err.contains("\"tweets\""), "{err}");
        assert!(
            err.contains("x-v2, twcs, mastodon, jetstream, reddit, rss, ndjson"),
            "{err}"
        );
    }

    #[test]
    fn validate_checks_time_window_and_size() {
        assert!(matches!(validate(mention(), NOW), Item::Mention(_)));
        let mut m = mention();
        m.created_at = NOW + FUTURE_SLACK_MS + 1;
        assert_eq!(reason(&validate(m, NOW)), Some(Reject::FutureTimestamp));
        let mut m = mention();
        m.created_at = NOW + FUTURE_SLACK_MS;
        assert!(
            matches!(validate(m, NOW), Item::Mention(_)),
            "skew within the slack is fine"
        );
        let mut m = mention();
        m.created_at = MIN_EVENT_MS - 1;
        assert_eq!(reason(&validate(m, NOW)), Some(Reject::TooOld));
        let mut m = mention();
        m.text = "a".repeat(MAX_TEXT_BYTES + 1);
        assert_eq!(reason(&validate(m, NOW)), Some(Reject::TextTooLong));
        let mut m = mention();
        m.text = "a".repeat(MAX_TEXT_BYTES);
        assert!(matches!(validate(m, NOW), Item::Mention(_)));
        let mut m = mention();
        m.source_id.clear();
        assert_eq!(reason(&validate(m, NOW)), Some(Reject::MissingField));
        let mut m = mention();
        m.text = "a\0b".into();
        m.author.handle = Some("h\0".into());
        match validate(m, NOW) {
            Item::Mention(m) => {
                assert_eq!(m.text, "ab");
                assert_eq!(m.author.handle.as_deref(), Some("h"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_and_whitespace_input_is_one_reject_on_line_0() {
        for format in Format::ALL {
            for input in [&b""[..], b"\n\n  \r\n", b"\xEF\xBB\xBF"] {
                let out = collect(input, format);
                assert_eq!(out.len(), 1, "{format}: {out:?}");
                assert_eq!(out[0].line, 0);
                assert_eq!(reason(&out[0].item), Some(Reject::EmptyInput));
            }
        }
    }

    #[test]
    fn binary_input_is_one_reject() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(std::iter::repeat(0u8).take(5000));
        let gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00".to_vec();
        let utf16 = "{\"a\":1}"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect::<Vec<u8>>();
        let utf16 = [&[0xFF, 0xFE][..], &utf16].concat();
        for format in Format::ALL {
            for input in [&png, &gz, &utf16] {
                let out = collect(input, format);
                assert_eq!(out.len(), 1, "{format}: {out:?}");
                assert_eq!(out[0].line, 0);
                assert_eq!(reason(&out[0].item), Some(Reject::BinaryInput), "{out:?}");
            }
        }
        let out = collect(&gz, Format::Ndjson);
        assert!(format!("{out:?}").contains("gzip"), "{out:?}");
        let out = collect(&utf16, Format::Ndjson);
        assert!(format!("{out:?}").contains("UTF-16"), "{out:?}");
    }

    #[test]
    fn read_path_reports_unusable_files_as_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.jsonl");
        let err = read_path(&missing, None, NOW, &mut |_| {}).unwrap_err();
        assert!(matches!(err, SourceError::Open { .. }));
        assert!(err.to_string().contains("nope.jsonl"), "{err}");

        let err = read_path(dir.path(), None, NOW, &mut |_| {}).unwrap_err();
        assert!(matches!(err, SourceError::IsDirectory { .. }), "{err}");

        let odd = dir.path().join("odd.json");
        std::fs::write(&odd, "{\"interactions\": []}\n").unwrap();
        let err = read_path(&odd, None, NOW, &mut |_| {}).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("could not detect the format of"), "{msg}");
        assert!(msg.contains("--format with one of x-v2, twcs"), "{msg}");
        // With the format given, the same file is read and its record rejected.
        let mut out = Vec::new();
        let f = read_path(&odd, Some(Format::Ndjson), NOW, &mut |l| out.push(l)).unwrap();
        assert_eq!(f, Format::Ndjson);
        assert_eq!(out.len(), 1);
        assert_eq!(reason(&out[0].item), Some(Reject::MissingField));
    }

    #[test]
    fn read_path_streams_and_detects() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        // Big enough that the head/rest split falls inside a line.
        let mut body = String::new();
        for i in 0..3000 {
            body.push_str(&format!(
                "{{\"source\":\"t\",\"id\":\"{i}\",\"created_at\":\"2025-01-01T00:00:00Z\",\"text\":\"{}\"}}\n",
                "x".repeat(i % 50)
            ));
        }
        std::fs::write(&p, &body).unwrap();
        let mut out = Vec::new();
        let f = read_path(&p, None, NOW, &mut |l| out.push(l)).unwrap();
        assert_eq!(f, Format::Ndjson);
        assert_eq!(out.len(), 3000);
        assert!(out.iter().all(|l| matches!(l.item, Item::Mention(_))));
        assert_eq!(out[2999].line, 3000);

        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "").unwrap();
        let mut out = Vec::new();
        let f = read_path(&empty, None, NOW, &mut |l| out.push(l)).unwrap();
        assert_eq!(
            f,
            Format::Twcs,
            "the extension decides when there is no content"
        );
        assert_eq!(reason(&out[0].item), Some(Reject::EmptyInput));
    }

    #[test]
    fn snippet_cuts_on_char_boundary() {
        assert_eq!(snippet("abc", 5), "abc");
        assert_eq!(snippet("ééé", 3), "é…");
    }
}
