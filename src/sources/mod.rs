//! Parsers for real feed formats. Each turns raw bytes into [`Item`]s; none touches the store.
//!
//! Line-oriented formats (NDJSON, X v2 stream, Jetstream, Mastodon stream) implement
//! [`LineParser`]; whole-document formats (RSS/Atom, Reddit listings, Mastodon arrays, the
//! twcs CSV) implement [`DocParser`]. [`read`] drives either over a file and handles what is
//! common to all: invalid UTF-8, binary input, empty files, a truncated last line.

use crate::model::Mention;

/// One outcome of parsing: something to store, delete, count-and-skip, or reject.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Mention(Mention),
    /// The source retracted a post (Jetstream delete, Mastodon `delete`, X compliance).
    Delete { source: String, source_id: String },
    /// A valid record that is not a mention (a like, a follow, an identity event...).
    /// Counted per `kind` and skipped.
    Skipped { kind: String },
    /// A bad record: counted, kept in the dead-letter table with its reason.
    Rejected { reason: Reject, detail: String },
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
        }
    }
}

/// An item with the 1-based line (or record) number it came from, for error reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub line: u64,
    pub item: Item,
}
