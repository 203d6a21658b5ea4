//! Plain text out of the markup feeds carry: HTML (Mastodon `content`, RSS/Atom bodies) and
//! the entity-escaped text of X and Reddit.
//!
//! Post text is hostile input; what leaves here is plain text with no tags in it. The
//! conversion follows what a browser would show: tags dropped (`<script>`/`<style>` with
//! their content), whitespace runs collapsed outside `<pre>`, `<br>` and block elements
//! (`</p>`, `<div>`, `<li>`...) as line breaks, character references decoded.

use std::borrow::Cow;

/// The text a browser would show for an HTML fragment, with block elements as line breaks.
pub fn html_to_text(html: &str) -> String {
    let mut out = Out {
        s: String::with_capacity(html.len()),
        pending_space: false,
    };
    let b = html.as_bytes();
    let mut pre = 0u32;
    let mut i = 0;
    while i < b.len() {
        let Some(off) = memchr::memchr2(b'<', b'&', &b[i..]) else {
            out.text(&html[i..], pre > 0);
            break;
        };
        out.text(&html[i..i + off], pre > 0);
        i += off;
        if b[i] == b'&' {
            let (decoded, used) = entity_at(html, i);
            // A referenced space (`&#32;`, and `&nbsp;`, which we map to a space) collapses
            // like any other: feeds use them as padding.
            match decoded {
                Some(c) if c.is_ascii_whitespace() && pre == 0 => out.pending_space = true,
                Some(c) => out.push(c),
                None => out.push('&'),
            }
            i += used;
            continue;
        }
        let Some(tag) = tag_at(html, i) else {
            // `<` that does not open a tag (`a < b`, `<3`) is text.
            out.push('<');
            i += 1;
            continue;
        };
        i = tag.end;
        let name = tag.name.to_ascii_lowercase();
        match name.as_str() {
            "br" => out.newline(),
            "script" | "style" | "template" | "noscript" if !tag.closing => {
                // Their content is not text. Skip to the matching close tag, or the end.
                i = find_close(html, i, &name).unwrap_or(b.len());
            }
            "pre" => {
                out.block();
                pre = if tag.closing {
                    pre.saturating_sub(1)
                } else {
                    pre + 1
                };
            }
            n if is_block(n) => out.block(),
            _ => {}
        }
    }
    out.finish()
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hr"
            | "tr"
            | "table"
            | "section"
            | "article"
            | "aside"
            | "header"
            | "footer"
            | "nav"
            | "main"
            | "figure"
            | "figcaption"
            | "address"
            | "details"
            | "summary"
    )
}

struct Out {
    s: String,
    /// Whitespace was seen since the last character; emitted as one space before the next.
    pending_space: bool,
}

impl Out {
    fn text(&mut self, t: &str, pre: bool) {
        if pre {
            self.flush_space();
            self.s.push_str(t);
            return;
        }
        for c in t.chars() {
            if c.is_ascii_whitespace() {
                self.pending_space = true;
            } else {
                self.push(c);
            }
        }
    }

    fn flush_space(&mut self) {
        if std::mem::take(&mut self.pending_space) && !self.s.is_empty() && !self.s.ends_with('\n')
        {
            self.s.push(' ');
        }
    }

    fn push(&mut self, c: char) {
        self.flush_space();
        self.s.push(c);
    }

    fn trim_spaces(&mut self) {
        self.pending_space = false;
        let kept = self.s.trim_end_matches([' ', '\t']).len();
        self.s.truncate(kept);
    }

    /// `<br>`: a line break; two in a row leave an empty line, more add nothing.
    fn newline(&mut self) {
        self.trim_spaces();
        if !self.s.ends_with("\n\n") {
            self.s.push('\n');
        }
    }

    /// A block element starts or ends: continue on a fresh line.
    fn block(&mut self) {
        self.trim_spaces();
        if !self.s.is_empty() && !self.s.ends_with('\n') {
            self.s.push('\n');
        }
    }

    fn finish(self) -> String {
        let t = self.s.trim();
        if t.len() == self.s.len() {
            self.s
        } else {
            t.to_string()
        }
    }
}

struct Tag<'a> {
    name: &'a str,
    closing: bool,
    /// Index just past the tag.
    end: usize,
}

/// The tag (or comment, doctype, processing instruction) starting at `html[i] == '<'`.
/// `None` when the `<` is text.
fn tag_at(html: &str, i: usize) -> Option<Tag<'_>> {
    let b = html.as_bytes();
    let rest = &b[i + 1..];
    if rest.starts_with(b"!--") {
        let end = memchr::memmem::find(&rest[3..], b"-->").map_or(b.len(), |e| i + 1 + 3 + e + 3);
        return Some(Tag {
            name: "",
            closing: false,
            end,
        });
    }
    if matches!(rest.first(), Some(b'!' | b'?')) {
        let end = memchr::memchr(b'>', rest).map_or(b.len(), |e| i + 1 + e + 1);
        return Some(Tag {
            name: "",
            closing: false,
            end,
        });
    }
    let (closing, name_start) = if rest.first() == Some(&b'/') {
        (true, i + 2)
    } else {
        (false, i + 1)
    };
    if !b.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_end = b[name_start..]
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-' || *c == b':'))
        .map_or(b.len(), |p| name_start + p);
    // Find the closing `>`, skipping quoted attribute values (they may contain `>`).
    let mut j = name_end;
    let mut quote = None;
    while j < b.len() {
        match (quote, b[j]) {
            (None, b'>') => break,
            (None, q @ (b'"' | b'\'')) => quote = Some(q),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        j += 1;
    }
    // An unterminated tag runs to the end of the input, as in a browser: it is never text.
    let end = (j + 1).min(b.len());
    Some(Tag {
        name: &html[name_start..name_end],
        closing,
        end,
    })
}

/// Index just past `</name ...>` at or after `from`, case-insensitively.
fn find_close(html: &str, from: usize, name: &str) -> Option<usize> {
    let b = html.as_bytes();
    let mut i = from;
    while let Some(off) = memchr::memmem::find(&b[i..], b"</") {
        let at = i + off;
        let n = &b[at + 2..];
        if n.len() >= name.len() && n[..name.len()].eq_ignore_ascii_case(name.as_bytes()) {
            return Some(memchr::memchr(b'>', &b[at..]).map_or(b.len(), |e| at + e + 1));
        }
        i = at + 2;
    }
    None
}

/// Decodes every HTML character reference (`&amp;`, `&eacute;`, `&#39;`, `&#x1F600;`) in
/// plain text. Unknown names stay as they are.
pub fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(off) = s[i..].find('&') {
        out.push_str(&s[i..i + off]);
        i += off;
        let (decoded, used) = entity_at(s, i);
        match decoded {
            Some(c) => out.push(c),
            None => out.push('&'),
        }
        i += used;
    }
    out.push_str(&s[i..]);
    Cow::Owned(out)
}

/// Decodes only `&amp;`, `&lt;` and `&gt;`: the escaping X and Reddit apply to post text.
/// Anything else that looks like an entity was typed by the author and stays.
pub fn decode_basic_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(off) = rest.find('&') {
        out.push_str(&rest[..off]);
        rest = &rest[off..];
        let (c, n) = if rest.starts_with("&amp;") {
            ('&', 5)
        } else if rest.starts_with("&lt;") {
            ('<', 4)
        } else if rest.starts_with("&gt;") {
            ('>', 4)
        } else {
            ('&', 1)
        };
        out.push(c);
        rest = &rest[n..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character of the reference at `s[i] == '&'` and the bytes it spans; `(None, 1)`
/// when it is not a reference.
fn entity_at(s: &str, i: usize) -> (Option<char>, usize) {
    let b = s.as_bytes();
    let rest = &b[i + 1..];
    if rest.first() == Some(&b'#') {
        let (hex, start) = match rest.get(1) {
            Some(b'x' | b'X') => (true, 2),
            _ => (false, 1),
        };
        let digits = rest[start..]
            .iter()
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return (None, 1);
        }
        let text = &s[i + 1 + start..i + 1 + start + digits];
        let code = u32::from_str_radix(text, if hex { 16 } else { 10 }).unwrap_or(u32::MAX);
        // The `;` is optional for numeric references in HTML.
        let semi = usize::from(rest.get(start + digits) == Some(&b';'));
        return (Some(numeric_char(code)), 1 + start + digits + semi);
    }
    let len = rest
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if len == 0 || rest.get(len) != Some(&b';') {
        return (None, 1);
    }
    match named(&s[i + 1..i + 1 + len]) {
        Some(c) => (Some(c), len + 2),
        None => (None, 1),
    }
}

/// A numeric reference's character, with HTML's repairs: NUL, surrogates and out-of-range
/// codes become U+FFFD, and 0x80-0x9F are read as Windows-1252 (as browsers do).
fn numeric_char(code: u32) -> char {
    const CP1252: [u32; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
        0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ];
    let code = if (0x80..=0x9F).contains(&code) {
        CP1252[(code - 0x80) as usize]
    } else {
        code
    };
    if code == 0 {
        return '\u{FFFD}';
    }
    char::from_u32(code).unwrap_or('\u{FFFD}')
}

/// Named references that occur in real posts and feeds: the XML five, typography,
/// symbols and Latin-1 letters. `&nbsp;` becomes a plain space: downstream text analysis
/// treats it as a separator anyway.
fn named(name: &str) -> Option<char> {
    Some(match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "shy" => '\u{AD}',
        "zwnj" => '\u{200C}',
        "zwj" => '\u{200D}',
        "lrm" => '\u{200E}',
        "rlm" => '\u{200F}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "lsaquo" => '‹',
        "rsaquo" => '›',
        "bull" => '•',
        "middot" => '·',
        "dagger" => '†',
        "Dagger" => '‡',
        "permil" => '‰',
        "prime" => '′',
        "Prime" => '″',
        "euro" => '€',
        "cent" => '¢',
        "pound" => '£',
        "yen" => '¥',
        "curren" => '¤',
        "sect" => '§',
        "para" => '¶',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "plusmn" => '±',
        "times" => '×',
        "divide" => '÷',
        "micro" => 'µ',
        "frac14" => '¼',
        "frac12" => '½',
        "frac34" => '¾',
        "sup1" => '¹',
        "sup2" => '²',
        "sup3" => '³',
        "iexcl" => '¡',
        "iquest" => '¿',
        "not" => '¬',
        "ordf" => 'ª',
        "ordm" => 'º',
        "acute" => '´',
        "uml" => '¨',
        "cedil" => '¸',
        "macr" => '¯',
        "brvbar" => '¦',
        "larr" => '←',
        "rarr" => '→',
        "uarr" => '↑',
        "darr" => '↓',
        "harr" => '↔',
        "hearts" => '♥',
        "spades" => '♠',
        "clubs" => '♣',
        "diams" => '♦',
        "check" => '✓',
        "star" => '☆',
        "Agrave" => 'À',
        "Aacute" => 'Á',
        "Acirc" => 'Â',
        "Atilde" => 'Ã',
        "Auml" => 'Ä',
        "Aring" => 'Å',
        "AElig" => 'Æ',
        "Ccedil" => 'Ç',
        "Egrave" => 'È',
        "Eacute" => 'É',
        "Ecirc" => 'Ê',
        "Euml" => 'Ë',
        "Igrave" => 'Ì',
        "Iacute" => 'Í',
        "Icirc" => 'Î',
        "Iuml" => 'Ï',
        "ETH" => 'Ð',
        "Ntilde" => 'Ñ',
        "Ograve" => 'Ò',
        "Oacute" => 'Ó',
        "Ocirc" => 'Ô',
        "Otilde" => 'Õ',
        "Ouml" => 'Ö',
        "Oslash" => 'Ø',
        "Ugrave" => 'Ù',
        "Uacute" => 'Ú',
        "Ucirc" => 'Û',
        "Uuml" => 'Ü',
        "Yacute" => 'Ý',
        "THORN" => 'Þ',
        "szlig" => 'ß',
        "agrave" => 'à',
        "aacute" => 'á',
        "acirc" => 'â',
        "atilde" => 'ã',
        "auml" => 'ä',
        "aring" => 'å',
        "aelig" => 'æ',
        "ccedil" => 'ç',
        "egrave" => 'è',
        "eacute" => 'é',
        "ecirc" => 'ê',
        "euml" => 'ë',
        "igrave" => 'ì',
        "iacute" => 'í',
        "icirc" => 'î',
        "iuml" => 'ï',
        "eth" => 'ð',
        "ntilde" => 'ñ',
        "ograve" => 'ò',
        "oacute" => 'ó',
        "ocirc" => 'ô',
        "otilde" => 'õ',
        "ouml" => 'ö',
        "oslash" => 'ø',
        "ugrave" => 'ù',
        "uacute" => 'ú',
        "ucirc" => 'û',
        "uuml" => 'ü',
        "yacute" => 'ý',
        "thorn" => 'þ',
        "yuml" => 'ÿ',
        "Yuml" => 'Ÿ',
        "OElig" => 'Œ',
        "oelig" => 'œ',
        "Scaron" => 'Š',
        "scaron" => 'š',
        "fnof" => 'ƒ',
        "circ" => 'ˆ',
        "tilde" => '˜',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_content() {
        let html = r#"<p>Natüürlich.</p><p>"The UK and Germany" &amp; more</p><p><a href="https://www.bbc.com/news/articles/cq6m10g7e35o" rel="nofollow noopener" translate="no" target="_blank"><span class="invisible">https://www.</span><span class="ellipsis">bbc.com/news/articles/cq6m10g7</span><span class="invisible">e35o</span></a></p>"#;
        assert_eq!(
            html_to_text(html),
            "Natüürlich.\n\"The UK and Germany\" & more\nhttps://www.bbc.com/news/articles/cq6m10g7e35o"
        );
        let html = "<p>🎶 <a href=\"https://botsin.space/tags/NowPlaying\" class=\"mention hashtag\">#<span>NowPlaying</span></a><br>War<br>by GoSoundtrack</p>";
        assert_eq!(html_to_text(html), "🎶 #NowPlaying\nWar\nby GoSoundtrack");
    }

    #[test]
    fn whitespace_blocks_and_breaks() {
        assert_eq!(
            html_to_text("  <p>a\n   b</p>\n\n<blockquote>\n<p>c</p>\n</blockquote>  "),
            "a b\nc"
        );
        assert_eq!(html_to_text("a<br><br><br><br>b"), "a\n\nb");
        assert_eq!(html_to_text("a <br/> b"), "a\nb");
        assert_eq!(
            html_to_text("<ul><li>one</li><li>two</li></ul>"),
            "one\ntwo"
        );
        assert_eq!(html_to_text("<pre>  x\n  y</pre>after"), "x\n  y\nafter");
        assert_eq!(html_to_text("<b>bold</b> and <i>it</i>"), "bold and it");
        assert_eq!(
            html_to_text("&#32; submitted by &#32; <a>/u/x</a> &#32;<br>[link]"),
            "submitted by /u/x\n[link]"
        );
    }

    #[test]
    fn never_keeps_markup() {
        assert_eq!(
            html_to_text("<script>alert('x')</script>hi<style>p{}</style>"),
            "hi"
        );
        assert_eq!(html_to_text("<SCRIPT type=x>a</Script >b"), "b");
        assert_eq!(html_to_text("x<!-- <p>hidden</p> -->y"), "xy");
        assert_eq!(html_to_text("<a title=\"a > b\">link</a>"), "link");
        assert_eq!(html_to_text("ok <img src=x onerror=alert(1)"), "ok");
        assert_eq!(html_to_text("<!DOCTYPE html><?xml x?>t"), "t");
        assert_eq!(
            html_to_text("&lt;b&gt;not a tag&lt;/b&gt;"),
            "<b>not a tag</b>"
        );
        assert_eq!(html_to_text("<script>never closed"), "");
    }

    #[test]
    fn text_that_looks_like_markup_stays() {
        assert_eq!(html_to_text("I <3 you, 1 < 2 > 0"), "I <3 you, 1 < 2 > 0");
        assert_eq!(
            html_to_text("AT&T & co &unknown; &#;"),
            "AT&T & co &unknown; &#;"
        );
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("Krin&#39;s &quot;x&quot; &eacute;t&eacute; &#x1F600; &#8217; &#150;"),
            "Krin's \"x\" été 😀 ’ –"
        );
        assert_eq!(
            decode_entities("&#0; &#xD800; &#99999999;"),
            "\u{FFFD} \u{FFFD} \u{FFFD}"
        );
        assert_eq!(
            decode_entities("a&nbsp;b&shy;c&zwj;d"),
            "a b\u{AD}c\u{200D}d"
        );
        assert!(matches!(decode_entities("plain"), Cow::Borrowed(_)));
        assert_eq!(decode_entities("&amp;amp;"), "&amp;");
    }

    #[test]
    fn basic_entities_only() {
        assert_eq!(
            decode_basic_entities("Premium &amp; more &lt;3 &gt;_&lt; &copy; &#39;"),
            "Premium & more <3 >_< &copy; &#39;"
        );
        assert_eq!(decode_basic_entities("&amp;lt;"), "&lt;");
        assert_eq!(decode_basic_entities("trailing &"), "trailing &");
    }
}
