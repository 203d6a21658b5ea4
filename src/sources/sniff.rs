//! Format detection from the first bytes of an input, and the binary-input check.
//!
//! JSON detection cannot parse the first record: an X search page is one line of several
//! hundred KiB and the head we sniff may end inside it. So a small tolerant scanner walks
//! the JSON prefix and collects the keys of the first record, stopping where the head ends.

use super::Format;

/// Why `head` is binary rather than text, or `None` if it looks like text.
///
/// Text in a legacy 8-bit encoding (Latin-1 CSVs exist) is still text: its lines are
/// rejected one by one as invalid UTF-8. Binary means NUL bytes or mostly control bytes.
pub(crate) fn binary_reason(head: &[u8]) -> Option<String> {
    const MAGIC: [(&[u8], &str); 8] = [
        (b"\x1f\x8b", "gzip-compressed; decompress it first"),
        (b"\x28\xb5\x2f\xfd", "zstd-compressed; decompress it first"),
        (b"BZh", "bzip2-compressed; decompress it first"),
        (b"\xfd7zXZ\x00", "xz-compressed; decompress it first"),
        (b"PK\x03\x04", "a zip archive; extract it first"),
        (b"SQLite format 3\x00", "an SQLite database, not a feed"),
        (b"\xff\xfe", "UTF-16 text; convert it to UTF-8"),
        (b"\xfe\xff", "UTF-16 text; convert it to UTF-8"),
    ];
    for (magic, what) in MAGIC {
        // "BZh" alone is plausible text; require the block-size digit after it.
        if head.starts_with(magic)
            && (magic != b"BZh" || head.get(3).is_some_and(u8::is_ascii_digit))
        {
            return Some(format!("the input is {what}"));
        }
    }
    if let Some(at) = memchr::memchr(0, head) {
        return Some(format!(
            "the input has a NUL byte at offset {at}: binary data, not a text feed"
        ));
    }
    let control = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)) || b == 0x7f)
        .count();
    // Real text has next to no control bytes; 10% leaves room for odd but genuine files.
    if !head.is_empty() && control * 10 > head.len() {
        return Some(format!(
            "{control} of the first {} bytes are control characters: binary data, not a text feed",
            head.len()
        ));
    }
    None
}

/// The format of a non-blank input without its byte-order mark, or `None`.
pub(crate) fn sniff(body: &[u8]) -> Option<Format> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let body = &body[start..];
    match body[0] {
        b'<' => sniff_xml(body),
        b'{' | b'[' => sniff_json(&json_keys(body)),
        _ => sniff_csv(body),
    }
}

fn sniff_xml(body: &[u8]) -> Option<Format> {
    // The root element decides; a prolog, comments or a stylesheet may come first.
    let roots: [&[u8]; 4] = [b"<rss", b"<feed", b"<rdf:RDF", b"<RDF"];
    let window = &body[..body.len().min(4096)];
    roots
        .iter()
        .any(|r| memchr::memmem::find(window, r).is_some())
        .then_some(Format::Rss)
}

fn sniff_csv(body: &[u8]) -> Option<Format> {
    let line = body.split(|&b| b == b'\n').next()?;
    let line = String::from_utf8_lossy(line);
    let cols: Vec<&str> = line
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    let has = |name: &str| cols.iter().any(|c| c.eq_ignore_ascii_case(name));
    (has("tweet_id") && has("author_id") && has("inbound")).then_some(Format::Twcs)
}

/// What the scanner saw of the first JSON record.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    /// Keys of the first record object, in order.
    top: Vec<String>,
    /// String values of those keys (for `kind`, `event`).
    values: Vec<(String, String)>,
    /// Keys seen deeper inside the first record.
    nested: Vec<String>,
}

impl Keys {
    fn has(&self, k: &str) -> bool {
        self.top.iter().any(|t| t == k)
    }
    fn nested_has(&self, k: &str) -> bool {
        self.nested.iter().any(|t| t == k)
    }
    fn value(&self, k: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
}

fn sniff_json(k: &Keys) -> Option<Format> {
    if k.value("kind") == Some("Listing") {
        return Some(Format::Reddit);
    }
    if k.has("did") && k.has("time_us") && k.has("kind") {
        return Some(Format::Jetstream);
    }
    if (k.has("event") && k.has("payload"))
        || (k.has("account") && k.has("content") && (k.has("uri") || k.has("url")))
    {
        return Some(Format::Mastodon);
    }
    let envelope = k.has("includes") || k.has("matching_rules") || k.has("meta") || k.has("errors");
    let tweet_fields =
        k.nested_has("author_id") || (k.nested_has("username") && k.nested_has("public_metrics"));
    if k.has("data") && (envelope || tweet_fields) {
        return Some(Format::XV2);
    }
    // A bare (twarc-flattened) tweet per line. Tweets also have `source` ("Twitter for
    // iPhone"), so this must come before our NDJSON, which has `author` and no `author_id`.
    if k.has("author_id") && k.has("text") && k.has("id") {
        return Some(Format::XV2);
    }
    if k.has("source") && k.has("id") && k.has("created_at") && k.has("text") {
        return Some(Format::Ndjson);
    }
    None
}

/// Scans a JSON prefix (possibly cut anywhere) and collects the keys of its first object,
/// or of the first object inside a top-level array.
pub(crate) fn json_keys(s: &[u8]) -> Keys {
    let mut keys = Keys::default();
    // One entry per open container: (is_object, expecting_a_key).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut record_depth: Option<usize> = None;
    let mut last_key = String::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'{' => {
                stack.push((true, true));
                record_depth.get_or_insert(stack.len());
            }
            b'[' => stack.push((false, false)),
            b'}' | b']' => {
                stack.pop();
                if record_depth.is_some_and(|d| stack.len() < d) {
                    break;
                }
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    top.1 = top.0;
                }
            }
            b':' => {
                if let Some(top) = stack.last_mut() {
                    top.1 = false;
                }
            }
            b'"' => {
                let Some(end) = string_end(s, i + 1) else {
                    break;
                };
                let text = String::from_utf8_lossy(&s[i + 1..end]).into_owned();
                let depth = stack.len();
                match (stack.last(), record_depth) {
                    (Some((true, true)), Some(d)) if depth == d => {
                        last_key.clone_from(&text);
                        keys.top.push(text);
                    }
                    (Some((true, true)), Some(d)) if depth > d && keys.nested.len() < 512 => {
                        keys.nested.push(text)
                    }
                    (Some((true, false)), Some(d)) if depth == d => {
                        keys.values.push((last_key.clone(), text))
                    }
                    _ => {}
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

/// Index of the closing quote of a JSON string whose content starts at `from`.
fn string_end(s: &[u8], mut from: usize) -> Option<usize> {
    while from < s.len() {
        match s[from] {
            b'\\' => from += 2,
            b'"' => return Some(from),
            _ => from += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn det(s: &str) -> Option<Format> {
        super::super::detect(Path::new("x"), s.as_bytes())
    }

    #[test]
    fn detects_each_format_from_its_first_record() {
        assert_eq!(
            det("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"),
            Some(Format::Rss)
        );
        assert_eq!(
            det("<feed xmlns=\"http://www.w3.org/2005/Atom\">"),
            Some(Format::Rss)
        );
        assert_eq!(det("<!DOCTYPE html><html>"), None);
        assert_eq!(
            det("tweet_id,author_id,inbound,created_at,text\n1,2,True,x,y\n"),
            Some(Format::Twcs)
        );
        assert_eq!(
            det(",tweet_id,author_id,inbound,created_at,text\n"),
            Some(Format::Twcs),
            "pandas index column"
        );
        assert_eq!(det("a,b,c\n"), None);
        assert_eq!(
            det("{\"kind\": \"Listing\", \"data\": {\"children\": []}}"),
            Some(Format::Reddit)
        );
        assert_eq!(
            det("[{\"kind\": \"Listing\", \"data\": {}}]"),
            Some(Format::Reddit)
        );
        assert_eq!(
            det("{\"did\":\"did:plc:x\",\"time_us\":1,\"kind\":\"commit\"}"),
            Some(Format::Jetstream)
        );
        assert_eq!(
            det("{\"event\":\"delete\",\"payload\":\"1\"}"),
            Some(Format::Mastodon)
        );
        assert_eq!(
            det("[\n {\n  \"id\": \"1\", \"uri\": \"u\", \"content\": \"<p>x</p>\", \"account\": {}}]"),
            Some(Format::Mastodon)
        );
        assert_eq!(
            det("{\"data\": {\"id\": \"1\", \"text\": \"t\"}, \"matching_rules\": []}"),
            Some(Format::XV2)
        );
        // A search page cut inside `data` (its includes come after 100 tweets).
        assert_eq!(
            det("{\"data\": [{\"author_id\": \"1\", \"text\": \"hello"),
            Some(Format::XV2)
        );
        assert_eq!(
            det(
                "{\"id\":\"1\",\"text\":\"t\",\"author_id\":\"2\",\"source\":\"Twitter Web App\",\"created_at\":\"x\"}"
            ),
            Some(Format::XV2)
        );
        assert_eq!(
            det("{\"source\":\"x\",\"id\":\"1\",\"created_at\":\"2025-01-01T00:00:00Z\",\"text\":\"hi\"}"),
            Some(Format::Ndjson)
        );
        assert_eq!(
            det("{\"interactions\": [{\"response\": {\"body\": {\"string\": \"{\\\"kind\\\": \\\"Listing\\\"}\"}}}]}"),
            None,
            "a cassette is not a listing"
        );
        assert_eq!(det("{\"a\": 1}"), None);
    }

    #[test]
    fn key_scanner_tolerates_escapes_and_cuts() {
        let k = json_keys(br#"{"a\"b": "x\\", "kind": "Listing", "n": {"deep": 1}, "cut": "abc"#);
        assert_eq!(k.top, vec!["a\\\"b", "kind", "n", "cut"]);
        assert_eq!(k.value("kind"), Some("Listing"));
        assert!(k.nested_has("deep"));
        // Only the first record counts.
        let k = json_keys(b"{\"a\":1}\n{\"b\":2}");
        assert_eq!(k.top, vec!["a"]);
    }

    #[test]
    fn binary_check() {
        assert!(binary_reason(b"hello\nworld\n").is_none());
        assert!(binary_reason("caf\u{e9}".as_bytes()).is_none());
        assert!(binary_reason(b"caf\xe9 latin-1 is text").is_none());
        assert!(binary_reason(b"a\0b").is_some());
        assert!(binary_reason(b"\x01\x02\x03\x04abc").is_some());
        assert!(binary_reason(b"BZh9").is_some());
        assert!(binary_reason(b"BZhello").is_none());
    }
}
