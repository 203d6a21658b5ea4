//! Text and author masking for showcase (visitor) screens. Runs on the server: what leaves it
//! is already masked. Errs on the side of masking: a visitor wall loses a little text rather
//! than showing a customer's phone number.

use std::sync::OnceLock;

use regex::Regex;

use crate::model::{Author, StoredMention};

struct Patterns {
    email: Regex,
    url: Regex,
    handle: Regex,
    labelled_number: Regex,
    phone: Regex,
    long_number: Regex,
    code: Regex,
    bad_chars: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // The patterns are constants: a failure here is a programming error caught by the
        // unit tests, so falling back to a never-matching pattern keeps the server up.
        let re = |s: &str| Regex::new(s).unwrap_or_else(|_| Regex::new("$^").expect("trivial"));
        Patterns {
            email: re(r"(?i)[a-z0-9._%+\-]+\s*(?:@|\(at\)|\[at\])\s*[a-z0-9\-]+(?:\s*(?:\.|\(dot\)|\[dot\])\s*[a-z0-9\-]+)+"),
            url: re(r"(?i)\b(?:https?://|www\.)[^\s<>]+"),
            handle: re(r"(?:^|[^\w@])(@[A-Za-z0-9_.\-]{1,64}(?:@[A-Za-z0-9.\-]+)?)"),
            labelled_number: re(r"(?i)\b(order|account|acct|booking|ticket|invoice|case|ref(?:erence)?|confirmation|pnr|customer|member(?:ship)?|card|iban|loyalty)(\s*(?:no\.?|nr\.?|number|num|id|code|#)?\s*[:#]?\s*)([A-Z0-9][A-Z0-9\-]{2,})"),
            phone: re(r"\+?\(?\d[\d\s().\-/]{6,}\d"),
            long_number: re(r"\b\d{5,}\b"),
            code: re(r"\b[A-Za-z0-9]*(?:[0-9][A-Za-z]|[A-Za-z][0-9])[A-Za-z0-9]*\b"),
            bad_chars: re("[\u{200B}-\u{200F}\u{202A}-\u{202E}\u{2060}-\u{2069}\u{FEFF}\u{00AD}]"),
        }
    })
}

/// Words masked on visitor screens (lowercase; a word matches when it starts with one).
const PROFANITY: &[&str] = &[
    "fuck", "shit", "bullshit", "bitch", "bastard", "asshole", "arsehole", "dick", "cunt", "crap",
    "damn", "wtf", "stfu", "piss", "wanker", "twat", "bollocks", "motherf", "scheiss", "scheiß",
    "merde", "putain", "mierda", "cazzo",
];

fn is_profane(word: &str) -> bool {
    let w = word.to_lowercase();
    PROFANITY.iter().any(|p| w.starts_with(p))
}

fn mask_profanity(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            if is_profane(word) {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    out.push(first);
                }
                out.extend(chars.map(|_| '*'));
            } else {
                out.push_str(word);
            }
            word.clear();
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `https://example.com/users/jane?id=3` -> `example.com/…`; bare hosts stay.
fn mask_url(u: &str) -> String {
    let rest = u
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("HTTPS://")
        .trim_start_matches("HTTP://");
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    // Userinfo (`jane:pw@host`) is personal too.
    let host = host.rsplit('@').next().unwrap_or(host);
    let tail = rest[host_end..].trim_end_matches(['.', ',', ')', '!', '?']);
    if tail.is_empty() || tail == "/" {
        host.to_string()
    } else {
        format!("{host}/…")
    }
}

/// Masks personal data in post text: e-mail addresses, URLs with paths, handles, order and
/// account numbers, phone numbers, long digit runs, booking-code-like tokens, profanity; and
/// drops invisible and direction-override characters.
pub fn mask_text(text: &str) -> String {
    let p = patterns();
    let t = p.bad_chars.replace_all(text, "");
    // URLs first (they may hold handles and addresses), then fediverse handles
    // (`@bob@host` looks like an address), then addresses.
    let t = p.url.replace_all(&t, |c: &regex::Captures| mask_url(&c[0]));
    let t = p.handle.replace_all(&t, |c: &regex::Captures| {
        let whole = &c[0];
        let handle = &c[1];
        format!("{}@someone", &whole[..whole.len() - handle.len()])
    });
    let t = p.email.replace_all(&t, "[e-mail]");
    let t = p.labelled_number.replace_all(&t, |c: &regex::Captures| {
        // "order 4471-X" is a number; "order was late" is not.
        if c[3].chars().any(|ch| ch.is_ascii_digit()) {
            format!("{}{}[number]", &c[1], &c[2])
        } else {
            c[0].to_string()
        }
    });
    let t = p.phone.replace_all(&t, |c: &regex::Captures| {
        let digits = c[0].chars().filter(char::is_ascii_digit).count();
        if digits >= 7 {
            "[phone]".to_string()
        } else {
            c[0].to_string()
        }
    });
    let t = p.long_number.replace_all(&t, "[number]");
    let t = p.code.replace_all(&t, |c: &regex::Captures| {
        let w = &c[0];
        let digits = w.chars().filter(char::is_ascii_digit).count();
        // "4G", "MP3", "A320", "B2B" stay; "XK4P9Q", "ab12cd34" do not.
        if w.len() >= 6 && digits >= 2 {
            "[code]".to_string()
        } else {
            w.to_string()
        }
    });
    mask_profanity(&t)
}

/// A mention as a visitor may see it: anonymous author, masked text, no links back to the
/// author or the post.
pub fn mask_mention(m: &StoredMention) -> StoredMention {
    let mut out = m.clone();
    out.mention.author = Author {
        handle: None,
        name: Some("A customer".into()),
        followers: None,
        verified: false,
    };
    out.mention.text = mask_text(&m.mention.text);
    out.mention.url = None;
    out.mention.source_id = format!("masked-{}", m.id);
    out.mention.in_reply_to = None;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_urls_and_handles() {
        let t = mask_text("mail me at jane.doe+air@example.co.uk or JOHN (at) mail (dot) com");
        assert!(
            !t.contains("jane") && !t.contains("JOHN") && !t.contains("example"),
            "{t}"
        );
        assert_eq!(t.matches("[e-mail]").count(), 2, "{t}");
        let t = mask_text("see https://social.example/@jane/12345 and www.example.com/u/jane, or https://example.com/");
        assert!(!t.contains("jane") && !t.contains("12345"), "{t}");
        assert!(
            t.contains("social.example/…") && t.contains("example.com"),
            "{t}"
        );
        let t = mask_text("@jane_doe and @bob@mastodon.social: thanks @Airline!");
        assert!(
            !t.contains("jane") && !t.contains("bob") && !t.contains("Airline"),
            "{t}"
        );
        assert_eq!(t.matches("@someone").count(), 3, "{t}");
    }

    #[test]
    fn phones_numbers_and_codes() {
        for s in [
            "call +1 (555) 123-4567 now",
            "my number is 0176 1234567",
            "ring 555.123.4567",
            "+44 20 7946 0958",
        ] {
            let t = mask_text(s);
            assert!(t.contains("[phone]"), "{s} -> {t}");
            assert!(!t.chars().filter(char::is_ascii_digit).count() >= 7, "{t}");
        }
        let t = mask_text(
            "Order #A-99812 and account no. 55512 and booking ref XK4P9Q, case: 12-77-88",
        );
        assert!(
            !t.contains("99812") && !t.contains("55512") && !t.contains("XK4P9Q"),
            "{t}"
        );
        assert!(!t.contains("12-77-88"), "{t}");
        let t = mask_text("card 4111 1111 1111 1111");
        assert!(!t.contains("4111"), "{t}");
        // Ordinary words and small numbers stay.
        let t = mask_text("Flight A320 was 3 hours late on 4G, 2 bags lost");
        assert_eq!(t, "Flight A320 was 3 hours late on 4G, 2 bags lost");
        let t = mask_text("my order was late and the account team never called");
        assert_eq!(t, "my order was late and the account team never called");
    }

    #[test]
    fn profanity_and_invisible_characters() {
        assert_eq!(mask_text("this is shit, WTF"), "this is s***, W**");
        assert_eq!(mask_text("a\u{202E}b\u{200B}c"), "abc");
        assert_eq!(mask_text("Scunthorpe classic"), "Scunthorpe classic");
    }

    #[test]
    fn mentions_lose_author_links_and_ids() {
        let m = StoredMention {
            id: 7,
            mention: crate::model::Mention {
                source: "x".into(),
                source_id: "1790000000000".into(),
                channel: "x".into(),
                created_at: 0,
                text: "I am @jane, call 555-123-4567".into(),
                author: Author {
                    handle: Some("jane".into()),
                    name: Some("Jane Doe".into()),
                    followers: Some(12),
                    verified: true,
                },
                url: Some("https://x.com/jane/status/1".into()),
                in_reply_to: Some("17".into()),
                ..Default::default()
            },
            sentiment: 0.0,
            label: crate::model::Label::Neutral,
            influence: 3,
        };
        let out = mask_mention(&m);
        let json = serde_json::to_string(&out).unwrap();
        assert!(!json.contains("jane") && !json.contains("Jane"), "{json}");
        assert!(!json.contains("555"), "{json}");
        assert!(!json.contains("1790000000000"), "{json}");
        assert_eq!(out.id, 7);
    }

    #[test]
    fn huge_and_hostile_text_is_handled() {
        let emoji = "😀".repeat(10_000);
        assert_eq!(mask_text(&emoji), emoji);
        let html = "<script>alert(1)</script><img src=x onerror=alert(2)>";
        assert_eq!(mask_text(html), html);
    }
}
