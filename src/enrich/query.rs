//! Listening queries: topics defined by keyword queries with AND, OR, NOT and parentheses.
//!
//! Query syntax (operators are upper case; anything else is a term):
//! - `refund` a word: matches the word or the hashtag `#refund`, case-insensitively, on word
//!   boundaries (`refund` does not match `refunded`);
//! - `#delta` only the hashtag, `@AmericanAir` only the mention of that handle;
//! - `"charged twice"` a phrase: the words in this order, next to each other (punctuation
//!   between them is ignored); a bare term that splits into several words (`wi-fi`) is a phrase;
//! - `a b` (adjacent terms) = `a AND b`; `NOT` binds tighter than `AND`, `AND` tighter than `OR`;
//! - `( ... )` groups.
//!
//! Matching tokenizes the text once (lowercase words, hashtags, handles), finds every term
//! by hashing tokens against the words the queries use, then evaluates only the topics whose
//! terms occurred (plus those that can match with no term present, like `NOT spam`).
use ahash::AHashMap;
use std::cell::RefCell;
use std::fmt;

/// Deepest nesting of parentheses / NOT accepted in a query.
const MAX_DEPTH: usize = 64;

/// A syntax error in one topic's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// The topic whose query is wrong.
    pub topic: String,
    /// The query text.
    pub query: String,
    /// Character offset (0-based) in `query` where the error was found.
    pub position: usize,
    /// What the parser expected there.
    pub expected: String,
    /// What it found instead.
    pub found: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "topic {:?}: query {:?}, column {}: expected {}, found {}",
            self.topic,
            self.query,
            self.position + 1,
            self.expected,
            self.found
        )
    }
}

impl std::error::Error for QueryError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Word,
    Hashtag,
    Handle,
}

#[derive(Clone, Debug)]
enum Expr {
    Term(u32),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    fn eval(&self, hit: &[u64]) -> bool {
        match self {
            Expr::Term(t) => hit[*t as usize / 64] >> (t % 64) & 1 == 1,
            Expr::And(v) => v.iter().all(|e| e.eval(hit)),
            Expr::Or(v) => v.iter().any(|e| e.eval(hit)),
            Expr::Not(e) => !e.eval(hit),
        }
    }
    fn terms(&self, out: &mut Vec<u32>) {
        match self {
            Expr::Term(t) => out.push(*t),
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.terms(out)),
            Expr::Not(e) => e.terms(out),
        }
    }
}

/// One element of a term: a word id and whether it must be a plain word / hashtag / handle.
/// `Kind::Word` in a query matches a word or a hashtag in the text.
type TermWord = (u32, Kind);

/// A compiled set of topics; cheap to share across threads.
#[derive(Debug, Clone, Default)]
pub struct QuerySet {
    topics: Vec<String>,
    exprs: Vec<Expr>,
    words: AHashMap<Box<[u8]>, u32>,
    terms: Vec<Vec<TermWord>>,
    /// word id -> terms starting with it.
    starts: Vec<Vec<u32>>,
    /// term id -> topics using it.
    term_topics: Vec<Vec<u32>>,
    /// topics that match a text containing none of their terms (e.g. `NOT spam`).
    always: Vec<u32>,
}

#[derive(Default)]
struct Scratch {
    toks: Vec<(u32, Kind)>,
    hit: Vec<u64>,
    cand: Vec<u32>,
    seen: Vec<bool>,
    buf: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl QuerySet {
    /// Compiles `(topic, query)` pairs. The first syntax error is returned.
    pub fn new(defs: &[(String, String)]) -> Result<QuerySet, QueryError> {
        let mut qs = QuerySet {
            starts: vec![Vec::new()],
            ..QuerySet::default()
        };
        let mut term_ids: AHashMap<Vec<TermWord>, u32> = AHashMap::new();
        for (topic, query) in defs {
            let mut p = Parser::new(topic, query)?;
            let expr =
                p.parse(&mut |words: Vec<(String, Kind)>| qs.intern(&mut term_ids, words))?;
            qs.topics.push(topic.clone());
            qs.exprs.push(expr);
        }
        qs.term_topics = vec![Vec::new(); qs.terms.len()];
        let no_hits = vec![0u64; qs.terms.len().div_ceil(64)];
        let mut ts = Vec::new();
        for (k, e) in qs.exprs.iter().enumerate() {
            ts.clear();
            e.terms(&mut ts);
            ts.sort_unstable();
            ts.dedup();
            for &t in &ts {
                qs.term_topics[t as usize].push(k as u32);
            }
            if e.eval(&no_hits) {
                qs.always.push(k as u32);
            }
        }
        Ok(qs)
    }

    fn intern(
        &mut self,
        ids: &mut AHashMap<Vec<TermWord>, u32>,
        words: Vec<(String, Kind)>,
    ) -> u32 {
        let seq: Vec<TermWord> = words
            .into_iter()
            .map(|(w, kind)| {
                let next = self.starts.len() as u32;
                let id = *self
                    .words
                    .entry(w.into_bytes().into_boxed_slice())
                    .or_insert(next);
                if id == next {
                    self.starts.push(Vec::new());
                }
                (id, kind)
            })
            .collect();
        if let Some(&t) = ids.get(&seq) {
            return t;
        }
        let t = self.terms.len() as u32;
        self.starts[seq[0].0 as usize].push(t);
        self.terms.push(seq.clone());
        ids.insert(seq, t);
        t
    }

    /// Number of topics.
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// Topic names, in definition order.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// Pushes the name of every topic whose query matches `text` (in definition order).
    pub fn matches(&self, text: &str, out: &mut Vec<String>) {
        self.for_each_match(text, |k| out.push(self.topics[k].clone()));
    }

    /// Like [`QuerySet::matches`] with topic indexes (no allocation).
    pub fn match_indexes(&self, text: &str, out: &mut Vec<usize>) {
        self.for_each_match(text, |k| out.push(k));
    }

    fn for_each_match(&self, text: &str, mut f: impl FnMut(usize)) {
        if self.topics.is_empty() {
            return;
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => self.run(text, &mut s, &mut f),
            Err(_) => self.run(text, &mut Scratch::default(), &mut f),
        })
    }

    fn run(&self, text: &str, s: &mut Scratch, f: &mut dyn FnMut(usize)) {
        let Scratch {
            toks,
            hit,
            cand,
            seen,
            buf,
        } = s;
        toks.clear();
        tokenize(text, buf, |w, kind| {
            let id = self.words.get(w).copied().unwrap_or(0);
            toks.push((id, kind));
        });
        hit.clear();
        hit.resize(self.terms.len().div_ceil(64), 0);
        cand.clear();
        seen.clear();
        seen.resize(self.topics.len(), false);
        for i in 0..toks.len() {
            let (id, _) = toks[i];
            if id == 0 {
                continue;
            }
            for &t in &self.starts[id as usize] {
                let term = &self.terms[t as usize];
                if i + term.len() <= toks.len()
                    && term
                        .iter()
                        .zip(&toks[i..])
                        .all(|(&(w, want), &(got, kind))| w == got && kind_ok(want, kind))
                {
                    let (slot, bit) = (t as usize / 64, t % 64);
                    if hit[slot] >> bit & 1 == 0 {
                        hit[slot] |= 1 << bit;
                        for &k in &self.term_topics[t as usize] {
                            if !seen[k as usize] {
                                seen[k as usize] = true;
                                cand.push(k);
                            }
                        }
                    }
                }
            }
        }
        for &k in &self.always {
            if !seen[k as usize] {
                seen[k as usize] = true;
                cand.push(k);
            }
        }
        cand.sort_unstable();
        for &k in cand.iter() {
            if self.exprs[k as usize].eval(hit) {
                f(k as usize);
            }
        }
    }
}

fn kind_ok(want: Kind, got: Kind) -> bool {
    want == got || (want == Kind::Word && got == Kind::Hashtag)
}

/// Splits text into lowercase words, hashtags and handles (without their `#`/`@`).
/// Word characters: letters and digits of any script; `'` inside a word (`don't`, with `’`
/// folded to `'`); `_` inside hashtags and handles.
fn tokenize(text: &str, buf: &mut Vec<u8>, mut emit: impl FnMut(&[u8], Kind)) {
    let mut chars = text.char_indices().peekable();
    let mut glued = false; // the previous char ended a token (so `me@x.com` is no handle)
    while let Some((_, c)) = chars.next() {
        let after_token = std::mem::take(&mut glued);
        let kind = match c {
            '#' | '@' if after_token => continue,
            '#' => Kind::Hashtag,
            '@' => Kind::Handle,
            c if c.is_alphanumeric() => Kind::Word,
            _ => continue,
        };
        buf.clear();
        if kind == Kind::Word {
            push_lower(buf, c);
        } else if !chars
            .peek()
            .is_some_and(|&(_, n)| n.is_alphanumeric() || n == '_')
        {
            continue; // a lone '#' or '@'
        }
        while let Some(&(_, n)) = chars.peek() {
            if n.is_alphanumeric() || (n == '_' && kind != Kind::Word) {
                push_lower(buf, n);
                chars.next();
            } else if matches!(n, '\'' | '\u{2019}') && !buf.is_empty() {
                // keep an apostrophe only between letters
                let mut ahead = chars.clone();
                ahead.next();
                if ahead.peek().is_some_and(|&(_, a)| a.is_alphanumeric()) {
                    buf.push(b'\'');
                    chars.next();
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        emit(buf, kind);
        glued = true;
    }
}

fn push_lower(buf: &mut Vec<u8>, c: char) {
    if c.is_ascii() {
        buf.push(c.to_ascii_lowercase() as u8);
    } else {
        let mut tmp = [0u8; 4];
        for l in c.to_lowercase() {
            buf.extend_from_slice(l.encode_utf8(&mut tmp).as_bytes());
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Term(String),
    Phrase(String),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::And => "AND".into(),
            Tok::Or => "OR".into(),
            Tok::Not => "NOT".into(),
            Tok::Term(t) => format!("term {t:?}"),
            Tok::Phrase(p) => format!("phrase \"{p}\""),
            Tok::End => "end of query".into(),
        }
    }
}

struct Parser<'a> {
    topic: &'a str,
    query: &'a str,
    toks: Vec<(usize, Tok)>,
    pos: usize,
    depth: usize,
}

const EXPECT_OPERAND: &str = "a term, a \"quoted phrase\", '(' or NOT";

impl<'a> Parser<'a> {
    fn new(topic: &'a str, query: &'a str) -> Result<Parser<'a>, QueryError> {
        let mut p = Parser {
            topic,
            query,
            toks: Vec::new(),
            pos: 0,
            depth: 0,
        };
        let chars: Vec<char> = query.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            let start = i;
            match c {
                '(' => {
                    p.toks.push((i, Tok::LParen));
                    i += 1;
                }
                ')' => {
                    p.toks.push((i, Tok::RParen));
                    i += 1;
                }
                '"' | '\u{201C}' | '\u{201D}' => {
                    i += 1;
                    let body_start = i;
                    while i < chars.len() && !matches!(chars[i], '"' | '\u{201C}' | '\u{201D}') {
                        i += 1;
                    }
                    if i == chars.len() {
                        return Err(p.error(
                            chars.len(),
                            "a closing '\"' for the phrase opened at column ".to_string()
                                + &(start + 1).to_string(),
                            "end of query".into(),
                        ));
                    }
                    let body: String = chars[body_start..i].iter().collect();
                    p.toks.push((start, Tok::Phrase(body)));
                    i += 1;
                }
                _ => {
                    while i < chars.len()
                        && !chars[i].is_whitespace()
                        && !matches!(chars[i], '(' | ')' | '"' | '\u{201C}' | '\u{201D}')
                    {
                        i += 1;
                    }
                    let word: String = chars[start..i].iter().collect();
                    let tok = match word.as_str() {
                        "AND" | "&&" => Tok::And,
                        "OR" | "||" => Tok::Or,
                        "NOT" => Tok::Not,
                        _ => Tok::Term(word),
                    };
                    p.toks.push((start, tok));
                }
            }
        }
        p.toks.push((chars.len(), Tok::End));
        Ok(p)
    }

    fn error(&self, position: usize, expected: String, found: String) -> QueryError {
        QueryError {
            topic: self.topic.to_string(),
            query: self.query.to_string(),
            position,
            expected,
            found,
        }
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].1
    }

    fn unexpected(&self, expected: &str) -> QueryError {
        let (at, tok) = &self.toks[self.pos];
        self.error(*at, expected.to_string(), tok.describe())
    }

    fn parse(
        &mut self,
        intern: &mut dyn FnMut(Vec<(String, Kind)>) -> u32,
    ) -> Result<Expr, QueryError> {
        let e = self.or(intern)?;
        if *self.peek() != Tok::End {
            let expected = if *self.peek() == Tok::RParen {
                "end of query (this ')' closes nothing)"
            } else {
                "AND, OR or end of query"
            };
            return Err(self.unexpected(expected));
        }
        Ok(e)
    }

    fn or(
        &mut self,
        intern: &mut dyn FnMut(Vec<(String, Kind)>) -> u32,
    ) -> Result<Expr, QueryError> {
        let mut items = vec![self.and(intern)?];
        while *self.peek() == Tok::Or {
            self.pos += 1;
            items.push(self.and(intern)?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one")
        } else {
            Expr::Or(items)
        })
    }

    fn and(
        &mut self,
        intern: &mut dyn FnMut(Vec<(String, Kind)>) -> u32,
    ) -> Result<Expr, QueryError> {
        let mut items = vec![self.unary(intern)?];
        loop {
            match self.peek() {
                Tok::And => {
                    self.pos += 1;
                    items.push(self.unary(intern)?);
                }
                Tok::Term(_) | Tok::Phrase(_) | Tok::LParen | Tok::Not => {
                    items.push(self.unary(intern)?)
                }
                _ => break,
            }
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one")
        } else {
            Expr::And(items)
        })
    }

    fn unary(
        &mut self,
        intern: &mut dyn FnMut(Vec<(String, Kind)>) -> u32,
    ) -> Result<Expr, QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.unexpected("at most 64 levels of nesting"));
        }
        let r = self.unary_inner(intern);
        self.depth -= 1;
        r
    }

    fn unary_inner(
        &mut self,
        intern: &mut dyn FnMut(Vec<(String, Kind)>) -> u32,
    ) -> Result<Expr, QueryError> {
        let (at, tok) = self.toks[self.pos].clone();
        match tok {
            Tok::Not => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary(intern)?)))
            }
            Tok::LParen => {
                self.pos += 1;
                let e = self.or(intern)?;
                if *self.peek() != Tok::RParen {
                    return Err(
                        self.unexpected(&format!("')' to close the '(' at column {}", at + 1))
                    );
                }
                self.pos += 1;
                Ok(e)
            }
            Tok::Term(raw) | Tok::Phrase(raw) => {
                let mut words = Vec::new();
                let mut buf = Vec::new();
                tokenize(&raw, &mut buf, |w, kind| {
                    words.push((String::from_utf8_lossy(w).into_owned(), kind))
                });
                if words.is_empty() {
                    return Err(self.error(
                        at,
                        "a term with letters or digits".into(),
                        self.toks[self.pos].1.describe(),
                    ));
                }
                self.pos += 1;
                Ok(Expr::Term(intern(words)))
            }
            _ => Err(self.unexpected(EXPECT_OPERAND)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qs(defs: &[(&str, &str)]) -> QuerySet {
        let defs: Vec<(String, String)> = defs
            .iter()
            .map(|(t, q)| (t.to_string(), q.to_string()))
            .collect();
        QuerySet::new(&defs).unwrap()
    }

    fn hits(q: &QuerySet, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        q.matches(text, &mut out);
        out
    }

    fn err(query: &str) -> QueryError {
        QuerySet::new(&[("t".to_string(), query.to_string())]).unwrap_err()
    }

    #[test]
    fn boolean_logic_and_phrases() {
        let q = qs(&[("refunds", r#"(refund OR "charged twice") AND NOT test"#)]);
        assert_eq!(hits(&q, "I want a REFUND now"), ["refunds"]);
        assert_eq!(hits(&q, "you charged me twice"), Vec::<String>::new());
        assert_eq!(hits(&q, "You Charged Twice!!"), ["refunds"]);
        assert_eq!(hits(&q, "charged, twice"), ["refunds"]);
        assert_eq!(hits(&q, "refund test please"), Vec::<String>::new());
        assert_eq!(
            hits(&q, "refunded already"),
            Vec::<String>::new(),
            "word boundary"
        );
        assert_eq!(
            hits(&q, "#refund"),
            ["refunds"],
            "plain term matches the hashtag"
        );
    }

    #[test]
    fn implicit_and_precedence_and_nesting() {
        let q = qs(&[
            ("a", "lost bag OR luggage"),
            ("b", "NOT spam"),
            ("c", "((x OR y) (z))"),
        ]);
        assert_eq!(hits(&q, "they lost my bag"), ["a", "b"]);
        assert_eq!(hits(&q, "lost it"), ["b"]);
        assert_eq!(hits(&q, "luggage spam"), ["a"]);
        assert_eq!(hits(&q, "y and z"), ["b", "c"]);
        assert_eq!(hits(&q, "x"), ["b"]);
    }

    #[test]
    fn hashtags_and_handles() {
        let q = qs(&[
            ("tag", "#delta"),
            ("handle", "@AmericanAir"),
            ("word", "delta"),
        ]);
        assert_eq!(hits(&q, "flying #Delta today"), ["tag", "word"]);
        assert_eq!(hits(&q, "flying delta today"), ["word"]);
        assert_eq!(hits(&q, "@americanair where is my bag"), ["handle"]);
        assert_eq!(
            hits(&q, "americanair where is my bag"),
            Vec::<String>::new()
        );
        assert_eq!(hits(&q, "email me@delta.com"), ["word"]);
    }

    #[test]
    fn unicode_apostrophes_and_multiword_terms() {
        let q = qs(&[
            ("broken", "\"doesn't work\" OR wi-fi"),
            ("de", "kündigung"),
            ("ja", "遅延"),
        ]);
        assert_eq!(hits(&q, "the app doesn’t work"), ["broken"]);
        assert_eq!(hits(&q, "WI FI is down"), ["broken"]);
        assert_eq!(hits(&q, "KÜNDIGUNG bitte"), ["de"]);
        assert_eq!(hits(&q, "遅延"), ["ja"]);
    }

    #[test]
    fn many_topics_share_terms() {
        let defs: Vec<(String, String)> = (0..300)
            .map(|i| (format!("t{i}"), format!("(brand{i} OR @brand{i}) AND help")))
            .collect();
        let q = QuerySet::new(&defs).unwrap();
        assert_eq!(hits(&q, "@brand7 help me"), ["t7"]);
        assert_eq!(hits(&q, "brand299 brand3 help"), ["t3", "t299"]);
        assert!(hits(&q, "help").is_empty());
        let mut idx = Vec::new();
        q.match_indexes("brand5 help", &mut idx);
        assert_eq!(idx, [5]);
    }

    #[test]
    fn syntax_errors_say_where_and_what() {
        let e = err("(refund OR");
        assert_eq!(e.position, 10);
        assert!(e.expected.contains("a term"), "{e}");
        assert_eq!(e.found, "end of query");

        let e = err("(refund OR money");
        assert_eq!(e.position, 16);
        assert!(e.expected.contains("')'"), "{e}");

        let e = err("refund)");
        assert_eq!(e.position, 6);
        assert_eq!(e.found, "')'");

        let e = err("\"charged twice");
        assert!(e.expected.contains("closing"), "{e}");

        let e = err("refund AND OR money");
        assert_eq!(e.position, 11);
        assert_eq!(e.found, "OR");

        let e = err("");
        assert_eq!((e.position, e.found.as_str()), (0, "end of query"));

        let e = err("refund AND !!!");
        assert_eq!(e.position, 11);
        assert!(e.expected.contains("letters"), "{e}");

        let e = err("NOT");
        assert_eq!(e.position, 3);

        let e = err(&"(".repeat(100));
        assert!(e.expected.contains("nesting"), "{e}");

        let shown = err("a OR").to_string();
        assert!(
            shown.contains("column 5") && shown.contains("\"t\""),
            "{shown}"
        );
    }

    #[test]
    fn empty_set_matches_nothing() {
        let q = QuerySet::default();
        assert!(hits(&q, "anything").is_empty());
        assert!(q.is_empty());
    }
}
