//! The driver shared by the JSON formats, and the borrowed string types their records use.
//!
//! Line mode streams: one reusable buffer, one line at a time, each line checked for UTF-8
//! and handed to the format's [`RecordFn`] as `&str`, so records deserialize into structs
//! that borrow from the line instead of allocating per field.

use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, Visitor};
use serde_json::value::RawValue;

use super::{reject, Item, Located, ReadFailure, Reject, MAX_LINE_BYTES};

/// Parses one JSON record (a line, or an element of a JSON array) and emits its items.
///
/// Returns `Err` only for JSON that does not parse (syntax, or cut short); the driver turns
/// that into `MalformedJson` or `TruncatedLine`. Everything else the parser emits itself.
pub(crate) type RecordFn =
    fn(raw: &str, now_ms: i64, emit: &mut dyn FnMut(Item)) -> Result<(), serde_json::Error>;

/// Reads JSON records from `reader`: line by line, or as one document when the input
/// starts with `[` or with a line holding only `{` (pretty-printed JSON).
pub(crate) fn read_records<R: BufRead>(
    mut reader: R,
    parse: RecordFn,
    now_ms: i64,
    sink: &mut dyn FnMut(Located),
) -> Result<(), ReadFailure> {
    let document = {
        let head = reader
            .fill_buf()
            .map_err(|error| ReadFailure { line: 0, error })?;
        looks_like_document(super::strip_bom(head))
    };
    if document {
        let bytes = super::read_all(reader)?;
        read_document(&bytes, parse, now_ms, sink);
        return Ok(());
    }
    read_lines(reader, parse, now_ms, sink)
}

fn looks_like_document(head: &[u8]) -> bool {
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    match head[start] {
        b'[' => true,
        b'{' => {
            let rest = &head[start + 1..];
            let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            line_end < rest.len() && rest[..line_end].iter().all(u8::is_ascii_whitespace)
        }
        _ => false,
    }
}

fn read_lines<R: BufRead>(
    mut reader: R,
    parse: RecordFn,
    now_ms: i64,
    sink: &mut dyn FnMut(Located),
) -> Result<(), ReadFailure> {
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut line_no = 0u64;
    let mut saw_record = false;
    loop {
        buf.clear();
        let (read, overflow) =
            read_line_limited(&mut reader, &mut buf).map_err(|error| ReadFailure {
                line: line_no,
                error,
            })?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let terminated = buf.last() == Some(&b'\n') || overflow.is_some_and(|o| o.terminated);
        if let Some(o) = overflow {
            saw_record = true;
            let detail = format!("line is {} bytes; the limit is {MAX_LINE_BYTES}", o.total);
            sink(Located {
                line: line_no,
                item: reject(Reject::LineTooLong, detail),
            });
            continue;
        }
        let mut line = buf.as_slice();
        if let Some(l) = line.strip_suffix(b"\n") {
            line = l;
        }
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        if line_no == 1 {
            line = super::strip_bom(line);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue; // blank lines separate records; they are not records (X keep-alives)
        }
        saw_record = true;
        let text = match std::str::from_utf8(line) {
            Ok(t) => t,
            Err(e) => {
                // A multi-byte character cut by the end of the file is truncation too.
                let reason = if !terminated && e.error_len().is_none() {
                    Reject::TruncatedLine
                } else {
                    Reject::InvalidUtf8
                };
                let detail = format!("invalid UTF-8 at byte {} of the line", e.valid_up_to() + 1);
                sink(Located {
                    line: line_no,
                    item: reject(reason, detail),
                });
                continue;
            }
        };
        parse_record(text, line_no, terminated, parse, now_ms, sink);
    }
    if !saw_record {
        // Reached only when the whitespace ran past the sniffed head.
        sink(Located {
            line: 0,
            item: reject(Reject::EmptyInput, "the input has only blank lines"),
        });
    }
    Ok(())
}

/// Parses one line; a line holding a JSON array is a batch of records.
fn parse_record(
    text: &str,
    line: u64,
    terminated: bool,
    parse: RecordFn,
    now_ms: i64,
    sink: &mut dyn FnMut(Located),
) {
    let mut emit = |item| sink(Located { line, item });
    let result = if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<&RawValue>>(text).map(|records| {
            for r in records {
                if let Err(e) = parse(r.get(), now_ms, &mut emit) {
                    emit(syntax_reject(&e, true));
                }
            }
        })
    } else {
        parse(text, now_ms, &mut emit)
    };
    if let Err(e) = result {
        emit(syntax_reject(&e, terminated));
    }
}

/// `MalformedJson`, or `TruncatedLine` when an unterminated last line ends mid-JSON.
fn syntax_reject(e: &serde_json::Error, terminated: bool) -> Item {
    if e.is_eof() && !terminated {
        reject(
            Reject::TruncatedLine,
            format!(
                "the last line ends before its JSON is complete (cut off?): {}",
                message(e)
            ),
        )
    } else if e.is_data() {
        reject(Reject::MalformedRecord, message(e))
    } else {
        reject(
            Reject::MalformedJson,
            format!("{} at column {}", message(e), e.column()),
        )
    }
}

/// A whole JSON document: an array of records, or records one after another (pretty-printed).
/// Each record is reported on the line where it starts. Records before a syntax error land;
/// the parser cannot resynchronize after one, so the rest is one reject.
fn read_document(bytes: &[u8], parse: RecordFn, now_ms: i64, sink: &mut dyn FnMut(Located)) {
    let body = super::strip_bom(bytes);
    let start = skip_ws(body, 0);
    let (records, failure) = if body.get(start) == Some(&b'[') {
        array_elements(body, start + 1)
    } else {
        let mut records = Vec::new();
        let mut failure = None;
        for r in serde_json::Deserializer::from_slice(body).into_iter::<&RawValue>() {
            match r {
                Ok(r) => records.push(r),
                Err(e) => {
                    failure = Some(DocFailure::from_serde(&e, 0));
                    break;
                }
            }
        }
        (records, failure)
    };
    let mut lines = LineCounter::new(bytes);
    for r in records {
        let line = lines.line_of(r.get().as_ptr());
        let mut emit = |item| sink(Located { line, item });
        if let Err(e) = parse(r.get(), now_ms, &mut emit) {
            emit(syntax_reject(&e, true));
        }
    }
    if let Some(f) = failure {
        let item = if f.eof {
            reject(
                Reject::TruncatedLine,
                format!(
                    "the document ends before its JSON is complete: {}",
                    f.message
                ),
            )
        } else {
            reject(
                Reject::MalformedJson,
                format!("{}; the rest of the document was not read", f.message),
            )
        };
        sink(Located { line: f.line, item });
    }
}

/// Where and why a JSON document stopped parsing.
struct DocFailure {
    line: u64,
    eof: bool,
    message: String,
}

impl DocFailure {
    /// From an error of a parse that started `lines_before` lines into the document.
    fn from_serde(e: &serde_json::Error, lines_before: u64) -> Self {
        DocFailure {
            line: lines_before + e.line() as u64,
            eof: e.is_eof(),
            message: message(e),
        }
    }
}

/// The elements of the array opened just before `pos`, one at a time, so that the elements
/// before a syntax error are kept (parsing the array as a whole would lose them all).
fn array_elements(body: &[u8], mut pos: usize) -> (Vec<&RawValue>, Option<DocFailure>) {
    let line_at = |pos: usize| memchr::memchr_iter(b'\n', &body[..pos]).count() as u64;
    let mut out = Vec::new();
    let fail = |pos: usize, what: &str| DocFailure {
        line: line_at(pos) + 1,
        eof: pos >= body.len(),
        message: what.to_string(),
    };
    pos = skip_ws(body, pos);
    if body.get(pos) == Some(&b']') {
        pos += 1;
    } else {
        loop {
            let mut values =
                serde_json::Deserializer::from_slice(&body[pos..]).into_iter::<&RawValue>();
            match values.next() {
                Some(Ok(v)) => out.push(v),
                Some(Err(e)) => return (out, Some(DocFailure::from_serde(&e, line_at(pos)))),
                None => return (out, Some(fail(pos, "EOF while parsing a list"))),
            }
            pos = skip_ws(body, pos + values.byte_offset());
            match body.get(pos) {
                Some(b',') => pos += 1,
                Some(b']') => {
                    pos += 1;
                    break;
                }
                None => return (out, Some(fail(pos, "EOF while parsing a list"))),
                Some(_) => {
                    return (
                        out,
                        Some(fail(pos, "expected `,` or `]` after an array element")),
                    )
                }
            }
        }
    }
    let end = skip_ws(body, pos);
    if end < body.len() {
        return (out, Some(fail(end, "trailing characters after the array")));
    }
    (out, None)
}

fn skip_ws(b: &[u8], from: usize) -> usize {
    from + b[from.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_whitespace())
        .count()
}

/// Maps positions inside a buffer to 1-based line numbers, counting forward only.
pub(crate) struct LineCounter<'a> {
    buf: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        LineCounter {
            buf,
            offset: 0,
            line: 1,
        }
    }

    /// The line of `ptr`, which must point into the buffer at or after the last position.
    pub(crate) fn line_of(&mut self, ptr: *const u8) -> u64 {
        let at = (ptr as usize)
            .saturating_sub(self.buf.as_ptr() as usize)
            .min(self.buf.len());
        if at > self.offset {
            self.line += memchr::memchr_iter(b'\n', &self.buf[self.offset..at]).count() as u64;
            self.offset = at;
        }
        self.line
    }
}

/// What was skipped of a line over [`MAX_LINE_BYTES`].
#[derive(Clone, Copy)]
struct Overflow {
    total: usize,
    terminated: bool,
}

/// Like `read_until(b'\n')`, but stops buffering at [`MAX_LINE_BYTES`] and skips the rest
/// of an overlong line. Returns the bytes consumed (0 at end of input).
fn read_line_limited<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<(usize, Option<Overflow>)> {
    let mut total = 0;
    let mut overflow = false;
    loop {
        let (done, used) = {
            let available = match reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            let (done, used) = match memchr::memchr(b'\n', available) {
                Some(i) => (true, i + 1),
                None => (false, available.len()),
            };
            if !overflow {
                if buf.len() + used > MAX_LINE_BYTES {
                    overflow = true;
                    buf.clear();
                } else {
                    buf.extend_from_slice(&available[..used]);
                }
            }
            (done, used)
        };
        reader.consume(used);
        total += used;
        if done {
            return Ok((
                total,
                overflow.then_some(Overflow {
                    total,
                    terminated: true,
                }),
            ));
        }
    }
    Ok((
        total,
        overflow.then_some(Overflow {
            total,
            terminated: false,
        }),
    ))
}

/// A serde_json message without its " at line L column C" suffix, which would name the
/// position inside the record rather than in the file.
pub(crate) fn message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The detail for a record whose JSON parses but does not have the expected shape: which
/// field (`author.followers`, `topics[2]`) and what was wrong. Re-parses with path tracking,
/// which costs nothing on the happy path because it only runs here.
pub(crate) fn shape_error<'a, T: Deserialize<'a>>(raw: &'a str) -> String {
    if !raw.trim_start().starts_with('{') {
        let what = match raw.trim_start().as_bytes().first() {
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            _ => "a number",
        };
        return format!("the record is {what}, not a JSON object");
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => "the record does not have the expected shape".into(),
        Err(e) => {
            let inner = message(e.inner());
            let path = e.path().to_string();
            if path == "." || path == "?" {
                inner
            } else {
                format!("field `{path}`: {inner}")
            }
        }
    }
}

/// Turns a deserialization failure into an item, or gives back a syntax failure for the
/// driver. A type error can surface before a syntax error later in the line, so the JSON
/// is checked on its own first: a truncated line must be reported as truncated.
pub(crate) fn failure<'a, T: Deserialize<'a>>(
    raw: &'a str,
    e: serde_json::Error,
) -> Result<Item, serde_json::Error> {
    if !e.is_data() {
        return Err(e);
    }
    serde_json::from_str::<IgnoredAny>(raw)?;
    Ok(reject(Reject::MalformedRecord, shape_error::<T>(raw)))
}

/// A JSON string borrowed from the input when it has no escapes (the usual case).
/// `Option<Cow<str>>` cannot do this: serde always deserializes `Cow` as owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl<'a> Str<'a> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
    pub(crate) fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

/// An id: a string, or an integer (some exporters write numeric ids; `1377649934414049282`
/// still fits u64 exactly, unlike in JavaScript).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Id<'a>(pub Cow<'a, str>);

impl<'a> Id<'a> {
    pub(crate) fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Id<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Id<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an integer id")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// `Some(owned)` of an optional borrowed string, `None` when absent or blank.
pub(crate) fn opt(s: Option<Str<'_>>) -> Option<String> {
    s.and_then(|s| super::non_empty(s.into_string()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::NOW;
    use super::*;

    /// A toy format: `{"n": <number>}` per record, emitted as a skip of kind n.
    fn toy(raw: &str, _now: i64, emit: &mut dyn FnMut(Item)) -> Result<(), serde_json::Error> {
        #[derive(serde::Deserialize)]
        struct T {
            n: u32,
        }
        match serde_json::from_str::<T>(raw) {
            Ok(t) => emit(super::super::skipped(t.n.to_string())),
            Err(e) => emit(failure::<T>(raw, e)?),
        }
        Ok(())
    }

    fn run(input: &[u8]) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        read_records(input, toy, NOW, &mut |l| {
            let what = match l.item {
                Item::Skipped { kind } => kind,
                Item::Rejected { reason, detail } => format!("{}: {detail}", reason.as_str()),
                other => format!("{other:?}"),
            };
            out.push((l.line, what));
        })
        .unwrap();
        out
    }

    #[test]
    fn lines_with_every_kind_of_damage() {
        let input = b"\xEF\xBB\xBF{\"n\":1}\r\n\n   \n{\"n\":\n{\"n\":\"two\"}\n{\"n\":3,\"s\":\"caf\xe9\"}\n[{\"n\":4},{\"n\":5}]\n42\n{\"n\":6}\n{\"n\":";
        let out = run(input);
        let expect = [
            (1, "1"),
            (4, "malformed_json"),
            (
                5,
                "malformed_record: field `n`: invalid type: string \"two\", expected u32",
            ),
            (6, "invalid_utf8: invalid UTF-8 at byte 16 of the line"),
            (7, "4"),
            (7, "5"),
            (
                8,
                "malformed_record: the record is a number, not a JSON object",
            ),
            (9, "6"),
            (10, "truncated_line"),
        ];
        assert_eq!(out.len(), expect.len(), "{out:#?}");
        for ((line, what), (el, ew)) in out.iter().zip(expect) {
            assert_eq!(*line, el, "{what}");
            assert!(
                what.starts_with(ew),
                "line {line}: {what} should start with {ew}"
            );
        }
    }

    #[test]
    fn a_complete_last_line_without_newline_is_fine() {
        assert_eq!(
            run(b"{\"n\":1}\n{\"n\":2}"),
            vec![(1, "1".into()), (2, "2".into())]
        );
        // Broken but not cut: malformed, not truncated.
        let out = run(b"{\"n\":1}\n{\"n\" 2}");
        assert!(out[1].1.starts_with("malformed_json"), "{out:?}");
        // A character cut in half at the end of the file is truncation.
        let out = run(b"{\"n\":1}\n{\"n\":1,\"s\":\"\xe2\x82");
        assert!(out[1].1.starts_with("truncated_line"), "{out:?}");
        // A truncated line in the middle of the file is just malformed.
        let out = run(b"{\"n\":\n{\"n\":2}\n");
        assert!(out[0].1.starts_with("malformed_json"), "{out:?}");
    }

    #[test]
    fn documents_keep_line_numbers() {
        let out = run(b"[\n  {\"n\": 1},\n  {\"n\": 2},\n  {\"n\": \"x\"}\n]\n");
        assert_eq!(out[0], (2, "1".into()));
        assert_eq!(out[1], (3, "2".into()));
        assert_eq!(out[2].0, 4);
        assert!(out[2].1.starts_with("malformed_record"));
        let out = run(b"{\n  \"n\": 1\n}\n{\n  \"n\": 2\n}\n");
        assert_eq!(out, vec![(1, "1".into()), (4, "2".into())]);
        let out = run(b"[\n  {\"n\": 1},\n  {\"n\": 2}");
        assert_eq!(out.len(), 3, "elements before the cut land: {out:?}");
        assert_eq!(out[1], (3, "2".into()));
        assert!(out[2].1.starts_with("truncated_line"), "{out:?}");
        let out = run(b"[\n  {\"n\": 1},\n  {\"n\" 2},\n  {\"n\": 3}\n]");
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[1].0, 3);
        assert!(out[1].1.starts_with("malformed_json"), "{out:?}");
        let out = run(b"[{\"n\": 1} {\"n\": 2}]");
        assert!(out[1].1.contains("expected `,` or `]`"), "{out:?}");
        let out = run(b"[{\"n\": 1}] x");
        assert!(out[1].1.contains("trailing characters"), "{out:?}");
        assert_eq!(run(b"[ ]"), vec![]);
        let out = run(b"{\n  \"n\": 1\n}\n{\n  \"n\" 2\n}\n");
        assert_eq!(out[0], (1, "1".into()));
        assert_eq!(out[1].0, 5);
        assert!(out[1].1.starts_with("malformed_json"), "{out:?}");
    }

    #[test]
    fn overlong_lines_are_skipped_without_buffering() {
        let mut input = b"{\"n\":1}\n{\"n\":\"".to_vec();
        input.extend(std::iter::repeat(b'a').take(MAX_LINE_BYTES + 10));
        input.extend(b"\"}\n{\"n\":3}\n");
        let out = run(&input);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], (1, "1".into()));
        assert!(out[1].1.starts_with("line_too_long"), "{}", out[1].1);
        assert_eq!(out[2], (3, "3".into()));
    }

    #[test]
    fn str_borrows_when_it_can() {
        #[derive(serde::Deserialize)]
        struct R<'a> {
            #[serde(borrow)]
            a: Option<Str<'a>>,
            #[serde(borrow)]
            b: Option<Str<'a>>,
            #[serde(borrow)]
            id: Option<Id<'a>>,
        }
        let r: R =
            serde_json::from_str(r#"{"a":"plain","b":"esc\"aped","id":12345678901234567890}"#)
                .unwrap();
        assert!(matches!(r.a.unwrap().0, Cow::Borrowed("plain")));
        assert_eq!(r.b.unwrap().as_str(), "esc\"aped");
        assert_eq!(r.id.unwrap().into_string(), "12345678901234567890");
    }
}
