//! "Customer Support on Twitter" (twcs) CSV: columns read by header name, so extra columns
//! (the unnamed pandas index some copies carry, an `index` column) do not matter.
//!
//! Columns: `tweet_id`, `author_id`, `inbound` (`True` = customer, `False` = brand),
//! `created_at` (`Tue Oct 31 22:10:47 +0000 2017`), `text`, `response_tweet_id` (ignored:
//! replies point at their parent, which is enough to rebuild threads) and
//! `in_response_to_tweet_id` (written as a float by pandas, `3.0`, read as the id `3`).
//!
//! Records end at `\n` only. Copies written by pandas leave a bare `\r` unquoted inside
//! tweet text (a line break the author typed); a reader that also ended records at `\r`
//! would cut those tweets in pieces and reject each piece. The `\r` of CRLF files is
//! stripped from the last field. Files with no `\n` at all (classic Mac) end records at `\r`.
//!
//! Each item's line is the line its record starts on (the header is line 1).

use std::io::{BufRead, Read};

use csv::{ByteRecord, ReaderBuilder, Terminator};

use super::{reject, validate, Item, Located, ReadFailure, Reject};
use crate::model::{Author, Mention};

/// Column positions in the header.
struct Columns {
    tweet_id: usize,
    author_id: usize,
    inbound: usize,
    created_at: usize,
    text: usize,
    in_response_to: Option<usize>,
    count: usize,
}

pub(crate) fn read<R: BufRead>(
    mut reader: R,
    now_ms: i64,
    sink: &mut dyn FnMut(Located),
) -> Result<(), ReadFailure> {
    let classic_mac = {
        let head = reader
            .fill_buf()
            .map_err(|error| ReadFailure { line: 0, error })?;
        memchr::memchr(b'\n', head).is_none() && memchr::memchr(b'\r', head).is_some()
    };
    let terminator = if classic_mac {
        Terminator::CRLF
    } else {
        Terminator::Any(b'\n')
    };
    let mut rdr = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(terminator)
        .from_reader(EndWithNewline {
            inner: reader,
            last: b'\n',
            done: false,
        });
    let mut record = ByteRecord::new();
    // csv reports a record's start as the end of the previous one, which is wrong after
    // blank lines (it skips them). Every record ends with a `\n` (see EndWithNewline), so
    // its first line is the line after it, less one, less the line breaks inside it.
    let start_line = |rdr: &csv::Reader<_>, record: &ByteRecord| -> u64 {
        if classic_mac {
            return record.position().map_or(0, |p| p.record() + 1);
        }
        let inside: usize = record
            .iter()
            .map(|f| memchr::memchr_iter(b'\n', f).count())
            .sum();
        rdr.position().line().saturating_sub(1 + inside as u64)
    };
    let header = match rdr.read_byte_record(&mut record) {
        Ok(true) => record.clone(),
        Ok(false) => {
            sink(Located {
                line: 0,
                item: reject(Reject::EmptyInput, "the CSV has no header row"),
            });
            return Ok(());
        }
        Err(e) => return csv_failure(e, 1, sink),
    };
    let columns = match columns(&header) {
        Ok(c) => c,
        Err(detail) => {
            let line = start_line(&rdr, &header);
            sink(Located {
                line,
                item: reject(Reject::MissingField, detail),
            });
            return Ok(());
        }
    };
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                csv_failure(e, line, sink)?;
                continue;
            }
        }
        let line = start_line(&rdr, &record);
        // A line of only spaces is not a record.
        if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        sink(Located {
            line,
            item: convert(&record, &columns, now_ms),
        });
    }
    Ok(())
}

/// Ends the input with a `\n` if it does not already, so that every record has one.
struct EndWithNewline<R> {
    inner: R,
    last: u8,
    done: bool,
}

impl<R: Read> Read for EndWithNewline<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.last = buf[n - 1];
            return Ok(n);
        }
        self.done = true;
        if self.last != b'\n' {
            buf[0] = b'\n';
            return Ok(1);
        }
        Ok(0)
    }
}

/// A CSV-level error: I/O ends the read, anything else is a reject of that record.
fn csv_failure(e: csv::Error, line: u64, sink: &mut dyn FnMut(Located)) -> Result<(), ReadFailure> {
    if let csv::ErrorKind::Io(_) = e.kind() {
        let csv::ErrorKind::Io(error) = e.into_kind() else {
            unreachable!()
        };
        return Err(ReadFailure { line, error });
    }
    sink(Located {
        line,
        item: reject(Reject::MalformedRecord, e.to_string()),
    });
    Ok(())
}

fn columns(header: &ByteRecord) -> Result<Columns, String> {
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 { super::strip_bom(f) } else { f };
            String::from_utf8_lossy(f)
                .trim()
                .trim_end_matches('\r')
                .to_ascii_lowercase()
        })
        .collect();
    let find = |name: &str| names.iter().position(|n| n == name);
    let need = |name: &str| {
        find(name).ok_or_else(|| {
            format!(
                "the twcs header has no `{name}` column (columns: {})",
                super::snippet(&names.join(", "), 200)
            )
        })
    };
    Ok(Columns {
        tweet_id: need("tweet_id")?,
        author_id: need("author_id")?,
        inbound: need("inbound")?,
        created_at: need("created_at")?,
        text: need("text")?,
        in_response_to: find("in_response_to_tweet_id"),
        count: names.len(),
    })
}

/// A reject reason and its detail, before it becomes an [`Item`].
type Bad = (Reject, String);

fn convert(r: &ByteRecord, c: &Columns, now_ms: i64) -> Item {
    if r.len() != c.count {
        return reject(
            Reject::MalformedRecord,
            format!(
                "row has {} fields; the header has {} (an unquoted delimiter or line break?)",
                r.len(),
                c.count
            ),
        );
    }
    let field = |i: usize, name: &str| -> Result<&str, Bad> {
        let raw = r.get(i).unwrap_or_default();
        // The last field of a CRLF line carries the `\r`.
        let raw = if i + 1 == r.len() {
            raw.strip_suffix(b"\r").unwrap_or(raw)
        } else {
            raw
        };
        std::str::from_utf8(raw).map_err(|e| {
            (
                Reject::InvalidUtf8,
                format!("`{name}` has invalid UTF-8 at byte {}", e.valid_up_to() + 1),
            )
        })
    };
    let get = |i: usize, name: &str| -> Result<&str, Bad> {
        let v = field(i, name)?.trim();
        if v.is_empty() {
            Err((Reject::MissingField, format!("`{name}` is empty")))
        } else {
            Ok(v)
        }
    };
    let parts = (|| {
        let id = get(c.tweet_id, "tweet_id")?;
        let author = get(c.author_id, "author_id")?;
        let inbound = match get(c.inbound, "inbound")? {
            v if v.eq_ignore_ascii_case("true") => true,
            v if v.eq_ignore_ascii_case("false") => false,
            v => {
                return Err((
                    Reject::MalformedRecord,
                    format!(
                        "`inbound` is {:?}; expected True or False",
                        super::snippet(v, 40)
                    ),
                ))
            }
        };
        let created = get(c.created_at, "created_at")?;
        let created_at = super::time::parse_twitter_classic_ms(created).ok_or_else(|| {
            (
                Reject::BadTimestamp,
                format!(
                    "`created_at` {:?} is not like `Tue Oct 31 22:10:47 +0000 2017`",
                    super::snippet(created, 60)
                ),
            )
        })?;
        let text = field(c.text, "text")?;
        let in_reply_to = match c.in_response_to {
            Some(i) => tweet_ref(field(i, "in_response_to_tweet_id")?.trim())?,
            None => None,
        };
        Ok((id, author, inbound, created_at, text, in_reply_to))
    })();
    let (id, author, inbound, created_at, text, in_reply_to) = match parts {
        Ok(p) => p,
        Err((reason, detail)) => return reject(reason, detail),
    };
    validate(
        Mention {
            source: "twcs".into(),
            source_id: id.to_string(),
            channel: "x".into(),
            created_at,
            text: super::text::decode_basic_entities(text).into_owned(),
            author: Author {
                handle: Some(author.to_string()),
                ..Author::default()
            },
            url: None,
            lang: None,
            in_reply_to,
            topics: Vec::new(),
            inbound: Some(inbound),
        },
        now_ms,
    )
}

/// `in_response_to_tweet_id` as an id: `3`, or pandas' float spelling `3.0` / `3e5`.
fn tweet_ref(v: &str) -> Result<Option<String>, Bad> {
    if v.is_empty() || v.eq_ignore_ascii_case("nan") {
        return Ok(None);
    }
    let digits = v.strip_suffix(".0").unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(digits.to_string()));
    }
    // Exponent forms are exact only while the id fits in f64's 53-bit mantissa.
    match v.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&f) => {
            Ok(Some(format!("{}", f as u64)))
        }
        _ => Err((
            Reject::MalformedRecord,
            format!(
                "`in_response_to_tweet_id` is {:?}; expected a tweet id",
                super::snippet(v, 40)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::collect;
    use super::super::Format;
    use super::*;

    fn run(csv: &str) -> Vec<Located> {
        collect(csv.as_bytes(), Format::Twcs)
    }

    #[test]
    fn pandas_copy_with_index_column_and_bare_cr() {
        let csv = ",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n\
0,1,sprintcare,False,Tue Oct 31 22:10:47 +0000 2017,@115712 I understand &amp; agree,2,3.0\n\
1,2,115712,True,Tue Oct 31 22:11:45 +0000 2017,\"@sprintcare and how, exactly\",,1.0\n\
2,3,116510,True,Tue Oct 31 18:13:06 +0000 2017,@AskPayPal \r\rI just love it,3398,\n";
        let out = run(csv);
        assert_eq!(out.len(), 3, "{out:#?}");
        let Item::Mention(m) = &out[0].item else {
            panic!("{:?}", out[0])
        };
        assert_eq!(out[0].line, 2);
        assert_eq!(m.source, "twcs");
        assert_eq!(m.channel, "x");
        assert_eq!(m.source_id, "1");
        assert_eq!(m.author.handle.as_deref(), Some("sprintcare"));
        assert_eq!(m.inbound, Some(false));
        assert_eq!(m.in_reply_to.as_deref(), Some("3"));
        assert_eq!(m.text, "@115712 I understand & agree");
        assert_eq!(m.created_at, 1_509_487_847_000);
        let Item::Mention(m) = &out[1].item else {
            panic!()
        };
        assert_eq!(m.text, "@sprintcare and how, exactly");
        assert_eq!(m.inbound, Some(true));
        let Item::Mention(m) = &out[2].item else {
            panic!("{:?}", out[2])
        };
        assert_eq!(out[2].line, 4);
        assert_eq!(m.text, "@AskPayPal \r\rI just love it");
        assert_eq!(m.in_reply_to, None);
    }

    #[test]
    fn crlf_sample_with_integer_reply_ids() {
        let csv = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\r\n\
119238,ChaseSupport,False,Wed Oct 11 13:25:49 +0000 2017,\"@105835 Your business, DM us\",,119239\r\n\
119239,105835,True,Wed Oct 11 13:00:09 +0000 2017,@76328 multi\nline? no: quoted only,119238,\r\n";
        let out = run(csv);
        let Item::Mention(m) = &out[0].item else {
            panic!("{out:?}")
        };
        assert_eq!(m.in_reply_to.as_deref(), Some("119239"));
        // The unquoted line break splits that record: both halves are rejected, not dropped.
        assert_eq!(out.len(), 3, "{out:#?}");
        assert!(matches!(
            &out[1].item,
            Item::Rejected {
                reason: Reject::MalformedRecord,
                ..
            }
        ));
        assert_eq!(out[1].line, 3);
        assert!(matches!(
            &out[2].item,
            Item::Rejected {
                reason: Reject::MalformedRecord,
                ..
            }
        ));
        assert_eq!(out[2].line, 4);
    }

    #[test]
    fn bad_rows_are_rejected_with_their_line() {
        let csv: &[u8] = b"tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n\
1,a,Maybe,Tue Oct 31 22:10:47 +0000 2017,t,\n\
2,a,True,31/10/2017,t,\n\
3,,True,Tue Oct 31 22:10:47 +0000 2017,t,\n\
4,a,True,Tue Oct 31 22:10:47 +0000 2017,t,abc\n\
5,a,True,Mon Oct 31 22:10:47 +0000 2005,t,\n\
\n\
6,a,True,Tue Oct 31 22:10:47 +0000 2017,caf\xe9,1.5e3\n\
7,a,True,Tue Oct 31 22:10:47 +0000 2017,ok,2.5\n";
        let out = collect(csv, Format::Twcs);
        let got: Vec<(u64, &str)> = out
            .iter()
            .map(|l| match &l.item {
                Item::Rejected { reason, .. } => (l.line, reason.as_str()),
                Item::Mention(_) => (l.line, "mention"),
                _ => (l.line, "other"),
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "malformed_record"),
                (3, "bad_timestamp"),
                (4, "missing_field"),
                (5, "malformed_record"),
                (6, "too_old"),
                (8, "invalid_utf8"),
                (9, "malformed_record"),
            ]
        );
    }

    #[test]
    fn header_problems() {
        let out = run("id,user,text\n1,2,3\n");
        assert_eq!(out.len(), 1);
        assert!(
            matches!(&out[0].item, Item::Rejected { reason: Reject::MissingField, detail } if detail.contains("`tweet_id`"))
        );
        assert_eq!(tweet_ref("1.5e3").ok().flatten().as_deref(), Some("1500"));
        assert_eq!(tweet_ref("").ok().flatten(), None);
    }
}
