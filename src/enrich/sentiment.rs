//! Sentiment engine: VADER's rules over VADER's lexicon, plus Sunward's care-domain layer.
//!
//! The algorithm follows VADER (Hutto & Gilbert, 2014): a valence lexicon, booster and
//! dampener words, negation within three words (x -0.74), "no" before a sentiment word,
//! ALL-CAPS emphasis, "!" / "?" amplification, "but" shifting weight to the clause after it,
//! "least", idioms, emoticons and emoji, and the compound `x / sqrt(x² + 15)` with the
//! thresholds ±0.05. On top of that (see `docs/sentiment.md`):
//!
//! - a one-pass byte tokenizer that drops @-mentions and URLs, strips `#` from hashtags,
//!   keeps emoticons, splits `great...not` and `love:)`, folds `’` and `` ` `` to `'`;
//! - elongations (`sooooo`, `loooove`) are looked up collapsed and count as emphasis;
//! - multi-word entries (`on hold`, `charged twice`, `kind of`, `the shit`) are merged
//!   into one token before the rules run;
//! - care entries (`assets/lexicon/care.txt`) with a valence for the negated form
//!   (`doesn't work`, `no reply`, `never arrived`);
//! - sarcasm: `great job... not` flips what came before it, and ironic praise ("thanks",
//!   "great", "love") in a text that reports a service failure counts against it.
//!
//! Speed: no allocation per call (thread-local scratch buffers), one hash lookup per token,
//! everything else precomputed in [`Analyzer::new`].
use crate::model::Label;
use ahash::AHashMap;
use std::cell::RefCell;
use std::fmt;
use std::sync::OnceLock;

const VADER_LEXICON: &str = include_str!("../../assets/lexicon/vader_lexicon.txt");
const VADER_EMOJI: &str = include_str!("../../assets/lexicon/emoji_utf8_lexicon.txt");
const CARE_LEXICON: &str = include_str!("../../assets/lexicon/care.txt");

/// Score at or above which a text is positive (and at or below minus which it is negative).
pub const THRESHOLD: f32 = 0.05;

// VADER's empirically derived constants.
const B_INCR: f32 = 0.293;
const B_DECR: f32 = -0.293;
const C_INCR: f32 = 0.733;
const N_SCALAR: f32 = -0.74;
const ALPHA: f32 = 15.0;
// Ours.
/// Emphasis of an elongated word (`sooo good`): like a booster.
const ELONG_INCR: f32 = 0.293;
/// Ironic praise in a complaint: "thanks" after "my flight got cancelled".
const SARCASM_SCALAR: f32 = -0.5;
/// A negated verb that is not in the lexicon ("can't check in", "didn't get my bag").
const NEG_VERB: f32 = -0.9;
/// A duration in a care post ("on the phone 45 minutes", "3 hours late").
const DURATION_VAL: f32 = -0.8;
/// Praise inside a question is usually a request ("any chance of an upgrade?").
const QUESTION_POS_SCALAR: f32 = 0.1;
/// A "thanks" in a request is courtesy, not praise ("can you check my booking? thanks").
const COURTESY_SCALAR: f32 = 0.1;

// Entry flags.
const LEX: u32 = 1; // has a valence
const NEGATE: u32 = 1 << 1;
const BUT: u32 = 1 << 2;
const NO: u32 = 1 << 3;
const NEVER: u32 = 1 << 4;
const SO_THIS: u32 = 1 << 5;
const WITHOUT: u32 = 1 << 6;
const DOUBT: u32 = 1 << 7;
const LEAST: u32 = 1 << 8;
const AT_VERY: u32 = 1 << 9;
const OR_NOR: u32 = 1 << 10;
const COMPLAINT: u32 = 1 << 11;
const SARCASM: u32 = 1 << 12;
const RESOLVED: u32 = 1 << 13;
const NOT: u32 = 1 << 14;
const BOOST: u32 = 1 << 15;
const LIKE: u32 = 1 << 16;
const SUBJECT: u32 = 1 << 17;
/// Negations that make a following verb a failure ("can't check in", "won't let me").
const NEGV: u32 = 1 << 18;
/// Function words skipped between a negation and its verb ("didn't even get", "can't I").
const FUNC: u32 = 1 << 19;
/// Verbs whose negation is not a complaint ("don't worry", "can't wait", "don't know").
const NEGV_EXEMPT: u32 = 1 << 20;
/// A digit run ("45"), or one glued to a time unit ("45min": NUM | DURATION).
const NUM: u32 = 1 << 21;
/// Time units: "45 minutes", "3 hours" in a care post is time lost waiting.
const DURATION: u32 = 1 << 22;
/// "in" / "within" before a duration is a plan, not a wait ("leaves in 2 hours").
const IN: u32 = 1 << 23;
/// Care: a thank-you formula ("thanks", "thank you", "thx").
const COURTESY: u32 = 1 << 24;
/// Care: asks for something ("please", "can you", "dm").
const REQUEST: u32 = 1 << 25;
/// An emoticon or emoji: care does not negate it ("nope :(" is sad, not happy).
const EMOTE: u32 = 1 << 26;

// What stood between a token and the one before it.
const GAP_COMMA: u8 = 1;
const GAP_END: u8 = 2;
const GAP_ELLIPSIS: u8 = 4;
const GAP_QUESTION: u8 = 8;

const MAX_PHRASE: usize = 4;

/// VADER's negation words (the `n't` suffix is also recognized).
const NEGATE_WORDS: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// Negations after which an unknown verb is a failure (care layer).
const NEGV_WORDS: &[&str] = &[
    "can't",
    "cant",
    "cannot",
    "won't",
    "wont",
    "didn't",
    "didnt",
    "doesn't",
    "doesnt",
    "don't",
    "dont",
    "isn't",
    "isnt",
    "wasn't",
    "wasnt",
    "aren't",
    "arent",
    "weren't",
    "werent",
    "haven't",
    "havent",
    "hasn't",
    "hasnt",
    "hadn't",
    "hadnt",
    "couldn't",
    "couldnt",
    "wouldn't",
    "wouldnt",
    "never",
    "not",
    "nobody",
    "no one",
    "noone",
    "unable to",
];

/// Words between a negation and its verb that do not end the look-ahead.
const FUNC_WORDS: &[&str] = &[
    "i", "you", "we", "they", "he", "she", "it", "me", "us", "them", "a", "an", "the", "to", "be",
    "been", "being", "even", "ever", "yet", "really", "just", "get", "got", "let", "have", "has",
    "is", "are", "was", "were", "do", "does", "did", "my", "our", "your", "their", "any", "at",
    "on", "seem", "seems", "able", "allowed", "at all", "u", "ur", "y'all", "yall", "anyone",
];

/// Verbs whose negation is not a complaint.
const NEGV_EXEMPT_WORDS: &[&str] = &[
    "know",
    "think",
    "mind",
    "forget",
    "worry",
    "miss",
    "hesitate",
    "wait",
    "believe",
    "see",
    "say",
    "mean",
    "understand",
    "matter",
    "blame",
    "tell",
    "need",
    "want",
    "remember",
    "quite",
    "guess",
    "usually",
    "normally",
    "often",
    "always",
    "only",
    "necessarily",
    "much",
    "many",
    "sure",
    "that",
    "this",
    "so",
    "too",
    "as",
    "what",
    "how",
    "if",
    "or",
    "and",
    "for",
    "of",
    "with",
    "in",
    "from",
    "about",
    "like",
    "go",
    "sleep",
    "stop",
    "feel",
    "look",
    "care",
];

/// VADER's boosters (+) and dampeners (-).
const BOOSTERS: &[(&str, f32)] = &[
    ("absolutely", B_INCR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("completely", B_INCR),
    ("considerable", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("effing", B_INCR),
    ("enormous", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptional", B_INCR),
    ("exceptionally", B_INCR),
    ("extreme", B_INCR),
    ("extremely", B_INCR),
    ("fabulously", B_INCR),
    ("flipping", B_INCR),
    ("flippin", B_INCR),
    ("frackin", B_INCR),
    ("fracking", B_INCR),
    ("fricking", B_INCR),
    ("frickin", B_INCR),
    ("frigging", B_INCR),
    ("friggin", B_INCR),
    ("fully", B_INCR),
    ("fuckin", B_INCR),
    ("fucking", B_INCR),
    ("fuggin", B_INCR),
    ("fugging", B_INCR),
    ("greatly", B_INCR),
    ("hella", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredible", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("major", B_INCR),
    ("majorly", B_INCR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("particularly", B_INCR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("so", B_INCR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("total", B_INCR),
    ("totally", B_INCR),
    ("tremendous", B_INCR),
    ("tremendously", B_INCR),
    ("uber", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utter", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
    ("almost", B_DECR),
    ("barely", B_DECR),
    ("hardly", B_DECR),
    ("just enough", B_DECR),
    ("kind of", B_DECR),
    ("kinda", B_DECR),
    ("kindof", B_DECR),
    ("kind-of", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("marginal", B_DECR),
    ("marginally", B_DECR),
    ("occasional", B_DECR),
    ("occasionally", B_DECR),
    ("partly", B_DECR),
    ("scarce", B_DECR),
    ("scarcely", B_DECR),
    ("slight", B_DECR),
    ("slightly", B_DECR),
    ("somewhat", B_DECR),
    ("sort of", B_DECR),
    ("sorta", B_DECR),
    ("sortof", B_DECR),
    ("sort-of", B_DECR),
];

/// VADER's special-case phrases and its (unimplemented there) sentiment-laden idioms.
const IDIOMS: &[(&str, f32)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
    ("cut the mustard", 2.0),
    ("hand to mouth", -2.0),
    ("back handed", -2.0),
    ("blow smoke", -2.0),
    ("blowing smoke", -2.0),
    ("upper hand", 1.0),
    ("break a leg", 2.0),
    ("cooking with gas", 2.0),
    ("in the black", 2.0),
    ("in the red", -2.0),
    ("on the ball", 2.0),
    ("under the weather", -2.0),
];

/// Result of [`Analyzer::analyze`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    /// VADER-style compound score in -1..=1.
    pub score: f32,
    pub label: Label,
}

/// The label for a compound score (thresholds ±[`THRESHOLD`]).
pub fn label_for(score: f32) -> Label {
    if score >= THRESHOLD {
        Label::Positive
    } else if score <= -THRESHOLD {
        Label::Negative
    } else {
        Label::Neutral
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Entry {
    valence: f32,
    /// Valence when negated (0: VADER's `valence * -0.74`).
    neg_valence: f32,
    booster: f32,
    /// Care: valence in a post addressed to someone (0: none); "why", "again" to a brand.
    to_brand: f32,
    /// Word id for phrase matching (0: the word starts or continues no phrase).
    id: u32,
    flags: u32,
    /// Longest phrase (in words) this word starts; 0 when none.
    max_phrase: u8,
}

#[derive(Clone, Copy, Default)]
struct Tok {
    e: Entry,
    upper: bool,
    elong: bool,
    gap: u8,
}

#[derive(Default)]
struct Scratch {
    toks: Vec<Tok>,
    vals: Vec<f32>,
    buf: Vec<u8>,
    buf2: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The sentiment analyzer. Build once (lexicons are parsed in `new`), share across threads.
pub struct Analyzer {
    words: AHashMap<Box<[u8]>, Entry>,
    phrases: AHashMap<[u32; MAX_PHRASE], Entry>,
    emoji: AHashMap<char, f32>,
    care: bool,
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analyzer")
            .field("words", &self.words.len())
            .field("phrases", &self.phrases.len())
            .field("emoji", &self.emoji.len())
            .field("care", &self.care)
            .finish()
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new()
    }
}

impl Analyzer {
    /// VADER lexicon + Sunward's care-domain layer. Takes a few milliseconds: build it once
    /// (or use [`Analyzer::shared`]).
    pub fn new() -> Self {
        Builder::new(true).finish()
    }

    /// VADER's lexicon and rules only, without the care layer (for comparisons).
    pub fn base_only() -> Self {
        Builder::new(false).finish()
    }

    /// A process-wide analyzer built on first use.
    pub fn shared() -> &'static Analyzer {
        static SHARED: OnceLock<Analyzer> = OnceLock::new();
        SHARED.get_or_init(Analyzer::new)
    }

    pub fn analyze(&self, text: &str) -> Sentiment {
        let score = self.score(text);
        Sentiment {
            score,
            label: label_for(score),
        }
    }

    /// The compound score in -1..=1.
    pub fn score(&self, text: &str) -> f32 {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => self.score_with(text, &mut s),
            Err(_) => self.score_with(text, &mut Scratch::default()),
        })
    }

    fn score_with(&self, text: &str, s: &mut Scratch) -> f32 {
        let Scratch {
            toks,
            vals,
            buf,
            buf2,
        } = s;
        toks.clear();
        vals.clear();
        let counts = self.tokenize(text.as_bytes(), toks, buf, buf2);
        self.merge_phrases(toks);
        if toks.is_empty() {
            return 0.0;
        }
        let cap_diff = counts.upper_words > 0 && counts.upper_words < counts.cased_words;
        self.valences(toks, cap_diff, &counts, vals);
        let mut sum: f32 = vals.iter().sum();
        let amp = punct_amplifier(counts.excl, counts.quest);
        if sum > 0.0 {
            sum += amp;
        } else if sum < 0.0 {
            sum -= amp;
        }
        let score = sum / (sum * sum + ALPHA).sqrt();
        if toks.capacity() > 1 << 16 {
            toks.shrink_to(1024);
            vals.shrink_to(1024);
        }
        score.clamp(-1.0, 1.0)
    }

    fn lookup(&self, word: &[u8]) -> Option<Entry> {
        self.words.get(word).copied()
    }

    /// One pass over the bytes: tokens with their lexicon entries, plus text-level counts.
    fn tokenize(
        &self,
        b: &[u8],
        toks: &mut Vec<Tok>,
        buf: &mut Vec<u8>,
        buf2: &mut Vec<u8>,
    ) -> Counts {
        let mut c = Counts::default();
        let n = b.len();
        let mut i = 0;
        let mut gap: u8 = 0;
        let mut chunk_start = true;
        while i < n {
            let ch = b[i];
            if ch.is_ascii_whitespace() {
                if ch == b'\n' {
                    gap |= GAP_END;
                }
                chunk_start = true;
                i += 1;
                continue;
            }
            if chunk_start {
                chunk_start = false;
                let end = b[i..]
                    .iter()
                    .position(|c| c.is_ascii_whitespace())
                    .map_or(n, |p| i + p);
                let chunk = &b[i..end];
                if is_url(chunk) {
                    i = end;
                    continue;
                }
                // Emoticons: `:)`, `:-D`, `<3`, `D:`, `&lt;3`.
                let first_punct = ch.is_ascii_punctuation() && ch != b'#' && ch != b'@';
                let short = chunk.len() <= 3 && chunk.iter().any(|c| c.is_ascii_punctuation());
                if (first_punct || short) && chunk.len() <= 8 {
                    lower_ascii(chunk, buf);
                    if let Some(e) = self.lookup(buf) {
                        if e.flags & LEX != 0 {
                            c.count_punct(chunk);
                            toks.push(Tok {
                                e,
                                upper: false,
                                elong: false,
                                gap,
                            });
                            gap = 0;
                            i = end;
                            continue;
                        }
                    }
                }
            }
            if ch.is_ascii_alphanumeric() {
                i = self.word(b, i, toks, buf, buf2, &mut gap, &mut c);
                continue;
            }
            if ch < 0x80 {
                if ch == b'@' && i + 1 < n && is_handle_byte(b[i + 1]) {
                    c.mentions += 1;
                    i += 1;
                    while i < n && is_handle_byte(b[i]) {
                        i += 1;
                    }
                    continue;
                }
                if ch == b'#' {
                    i += 1;
                    continue;
                }
                // A run of ASCII punctuation: gaps, "!"/"?" counts, glued emoticons.
                let start = i;
                while i < n
                    && b[i] < 0x80
                    && b[i].is_ascii_punctuation()
                    && b[i] != b'@'
                    && b[i] != b'#'
                {
                    i += 1;
                }
                if i == start {
                    i += 1; // control character
                    continue;
                }
                let run = &b[start..i];
                c.count_punct(run);
                gap |= run_gap(run);
                if run.len() >= 2 {
                    let t = trim_sentence_punct(run);
                    if t.len() >= 2 && t.len() <= 8 {
                        lower_ascii(t, buf);
                        if let Some(e) = self.lookup(buf) {
                            if e.flags & LEX != 0 {
                                toks.push(Tok {
                                    e,
                                    upper: false,
                                    elong: false,
                                    gap,
                                });
                                gap = 0;
                            }
                        }
                    }
                }
                continue;
            }
            // Non-ASCII: letters start words; emoji are tokens; the rest separates.
            let (chr, len) = decode(b, i);
            if chr.is_alphanumeric() {
                i = self.word(b, i, toks, buf, buf2, &mut gap, &mut c);
                continue;
            }
            i += len;
            match chr {
                '\u{2026}' => gap |= GAP_END | GAP_ELLIPSIS,
                '\u{2019}' | '\u{2018}' | '\u{201C}' | '\u{201D}' | '\u{FE0F}' | '\u{200D}' => {}
                '\u{FF01}' => {
                    c.excl += 1;
                    gap |= GAP_END;
                }
                _ => {
                    if let Some(&v) = self.emoji.get(&chr) {
                        let e = Entry {
                            valence: v,
                            flags: LEX | EMOTE,
                            ..Entry::default()
                        };
                        toks.push(Tok {
                            e,
                            upper: false,
                            elong: false,
                            gap,
                        });
                        gap = 0;
                    }
                }
            }
        }
        c.trailing_gap = gap;
        c
    }

    /// Reads one word starting at `i`, pushes its token(s), returns the index after it.
    #[allow(clippy::too_many_arguments)]
    fn word(
        &self,
        b: &[u8],
        mut i: usize,
        toks: &mut Vec<Tok>,
        buf: &mut Vec<u8>,
        buf2: &mut Vec<u8>,
        gap: &mut u8,
        c: &mut Counts,
    ) -> usize {
        let n = b.len();
        buf.clear();
        let (mut upper, mut lower) = (0u32, 0u32);
        let mut hyphen = false;
        let mut run = 0u32;
        let mut max_run = 0u32;
        let mut last: u8 = 0;
        while i < n {
            let ch = b[i];
            if ch < 0x80 {
                if ch.is_ascii_alphanumeric() {
                    if ch.is_ascii_uppercase() {
                        upper += 1;
                    } else if ch.is_ascii_lowercase() {
                        lower += 1;
                    }
                    let l = ch.to_ascii_lowercase();
                    run = if l == last { run + 1 } else { 1 };
                    max_run = max_run.max(run);
                    last = l;
                    buf.push(l);
                    i += 1;
                    continue;
                }
                if (ch == b'\'' || ch == b'`')
                    && !buf.is_empty()
                    && i + 1 < n
                    && b[i + 1].is_ascii_alphabetic()
                {
                    buf.push(b'\'');
                    last = b'\'';
                    i += 1;
                    continue;
                }
                if ch == b'-'
                    && !buf.is_empty()
                    && i + 1 < n
                    && b[i + 1].is_ascii_alphanumeric()
                    && last != b'-'
                {
                    buf.push(b'-');
                    last = b'-';
                    hyphen = true;
                    i += 1;
                    continue;
                }
                break;
            }
            let (chr, len) = decode(b, i);
            if chr == '\u{2019}' || chr == '\u{2018}' || chr == '\u{00B4}' {
                if !buf.is_empty() && i + len < n && b[i + len].is_ascii_alphabetic() {
                    buf.push(b'\'');
                    last = b'\'';
                    i += len;
                    continue;
                }
                break;
            }
            if !chr.is_alphanumeric() {
                break;
            }
            if chr.is_uppercase() {
                upper += 1;
            } else if chr.is_lowercase() {
                lower += 1;
            }
            for lc in chr.to_lowercase() {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(lc.encode_utf8(&mut tmp).as_bytes());
            }
            last = 0;
            run = 0;
            i += len;
        }
        // Words of two or more letters count for the ALL-CAPS differential.
        let is_upper = upper >= 2 && lower == 0;
        if upper + lower >= 2 {
            c.cased_words += 1;
            if is_upper {
                c.upper_words += 1;
            }
        }
        let g = std::mem::take(gap);
        if let Some(e) = self.lookup(buf) {
            toks.push(Tok {
                e,
                upper: is_upper,
                elong: false,
                gap: g,
            });
            return i;
        }
        if max_run >= 3 {
            // Elongation: "sooooo" -> "soo" -> "so"; "loooove" -> "loove" -> "love".
            for keep in [2usize, 1] {
                collapse_runs(buf, buf2, keep);
                if let Some(e) = self.lookup(buf2) {
                    toks.push(Tok {
                        e,
                        upper: is_upper,
                        elong: true,
                        gap: g,
                    });
                    return i;
                }
            }
        }
        if hyphen {
            let mut first = true;
            for part in buf.split(|&c| c == b'-') {
                let e = self.lookup(part).unwrap_or_else(|| unknown(part));
                toks.push(Tok {
                    e,
                    upper: is_upper,
                    elong: false,
                    gap: if first { g } else { 0 },
                });
                first = false;
            }
            return i;
        }
        toks.push(Tok {
            e: unknown(buf),
            upper: is_upper,
            elong: false,
            gap: g,
        });
        i
    }

    /// Merges multi-word entries into one token, longest match first.
    fn merge_phrases(&self, toks: &mut Vec<Tok>) {
        let n = toks.len();
        let mut w = 0;
        let mut r = 0;
        while r < n {
            let t = toks[r];
            let mut taken = 1;
            let mut merged = t;
            let max = t.e.max_phrase as usize;
            if max >= 2 {
                let mut len = max.min(n - r);
                while len >= 2 {
                    let mut key = [0u32; MAX_PHRASE];
                    let mut ok = true;
                    for k in 0..len {
                        let tk = &toks[r + k];
                        if tk.e.id == 0 || (k > 0 && tk.gap & (GAP_END | GAP_COMMA) != 0) {
                            ok = false;
                            break;
                        }
                        key[k] = tk.e.id;
                    }
                    if ok {
                        if let Some(e) = self.phrases.get(&key) {
                            let upper = toks[r..r + len].iter().all(|t| t.upper);
                            let elong = toks[r..r + len].iter().any(|t| t.elong);
                            merged = Tok {
                                e: *e,
                                upper,
                                elong,
                                gap: t.gap,
                            };
                            taken = len;
                            break;
                        }
                    }
                    len -= 1;
                }
            }
            toks[w] = merged;
            w += 1;
            r += taken;
        }
        toks.truncate(w);
    }

    /// VADER's per-token valences, then "but", then the sarcasm rules.
    fn valences(&self, toks: &[Tok], cap_diff: bool, counts: &Counts, vals: &mut Vec<f32>) {
        let n = toks.len();
        let has = |j: usize, f: u32| toks[j].e.flags & f != 0;
        for i in 0..n {
            let t = &toks[i];
            if t.e.flags & BOOST != 0 || t.e.flags & LEX == 0 {
                vals.push(0.0);
                continue;
            }
            if self.care && t.e.flags & LIKE != 0 && !(i > 0 && has(i - 1, SUBJECT)) {
                vals.push(0.0);
                continue;
            }
            let base = t.e.valence;
            let mut v = base;
            let mut negated = false;
            // Care: a face says how the writer feels; a "nope" or "not" before it does not
            // turn "nope :(" into praise (VADER negates emoticons like words).
            let negatable = !(self.care && t.e.flags & EMOTE != 0);
            // "no" before a sentiment word negates it instead of counting itself.
            if t.e.flags & NO != 0 && i + 1 < n && has(i + 1, LEX) {
                v = 0.0;
            }
            if negatable
                && ((i > 0 && has(i - 1, NO))
                    || (i > 1 && has(i - 2, NO))
                    || (i > 2 && has(i - 3, NO) && has(i - 1, OR_NOR)))
            {
                v = base * N_SCALAR;
                negated = true;
            }
            if v != 0.0 {
                if t.upper && cap_diff {
                    v += C_INCR.copysign(v);
                }
                if t.elong && self.care {
                    v += ELONG_INCR.copysign(v);
                }
            }
            let mut boost = 0.0f32;
            for k in 0..3 {
                // Care layer: negations and boosters stay inside their sentence ("wouldn't
                // ship with them. Worst service" is not a negated "worst").
                if self.care && i >= k && toks[i - k].gap & GAP_END != 0 {
                    break;
                }
                // VADER: only words outside the lexicon boost or negate. Care phrases that
                // carry a valence and negate ("still not") do both: "still not fixed".
                if i <= k
                    || (has(i - k - 1, LEX) && !(self.care && has(i - k - 1, NEGATE)))
                    || !negatable
                {
                    continue;
                }
                let p = &toks[i - k - 1];
                if p.e.flags & BOOST != 0 {
                    let mut sc = if v < 0.0 { -p.e.booster } else { p.e.booster };
                    if p.upper && cap_diff {
                        sc += if v > 0.0 { C_INCR } else { -C_INCR };
                    }
                    if k == 1 {
                        sc *= 0.95;
                    } else if k == 2 {
                        sc *= 0.9;
                    }
                    v += sc;
                    boost += sc;
                }
                match k {
                    0 => {
                        if has(i - 1, NEGATE) {
                            v *= N_SCALAR;
                            negated = !negated;
                        }
                    }
                    1 => {
                        if has(i - 2, NEVER) && has(i - 1, SO_THIS) {
                            v *= 1.25;
                        } else if has(i - 2, WITHOUT) && has(i - 1, DOUBT) {
                        } else if has(i - 2, NEGATE) {
                            v *= N_SCALAR;
                            negated = !negated;
                        }
                    }
                    _ => {
                        if has(i - 3, NEVER) && (has(i - 2, SO_THIS) || has(i - 1, SO_THIS)) {
                            v *= 1.25;
                        } else if has(i - 3, WITHOUT) && (has(i - 2, DOUBT) || has(i - 1, DOUBT)) {
                        } else if has(i - 3, NEGATE) {
                            v *= N_SCALAR;
                            negated = !negated;
                        }
                    }
                }
            }
            // "least": "the least helpful" negates, "at least" / "very least" do not.
            if i > 0 && !has(i - 1, LEX) && has(i - 1, LEAST) && !(i > 1 && has(i - 2, AT_VERY)) {
                v *= N_SCALAR;
                negated = !negated;
            }
            if negated && t.e.neg_valence != 0.0 {
                v = t.e.neg_valence - boost.abs();
            } else if !negated && base == 0.0 && t.e.neg_valence != 0.0 {
                v = 0.0; // "works" alone says nothing; only "doesn't work" does
            }
            vals.push(v);
        }
        let mut failure = false;
        if self.care {
            failure = care_rules(toks, counts.trailing_gap, counts.mentions > 0, vals);
        }
        // "but": the clause before it counts half, the clause after it 1.5 times.
        if let Some(bi) = toks.iter().position(|t| t.e.flags & BUT != 0) {
            for (j, v) in vals.iter_mut().enumerate() {
                if j < bi {
                    *v *= 0.5;
                } else if j > bi {
                    *v *= 1.5;
                }
            }
        }
        if !self.care {
            return;
        }
        // "great job... not": a clause-final "not" flips the praise before it.
        for i in 1..n {
            let t = &toks[i];
            if t.e.flags & NOT != 0
                && t.gap & (GAP_COMMA | GAP_END | GAP_ELLIPSIS) != 0
                && (i + 1 == n || toks[i + 1].gap & GAP_END != 0)
            {
                for v in vals[..i].iter_mut() {
                    if *v > 0.0 {
                        *v *= N_SCALAR;
                    }
                }
            }
        }
        // Ironic praise in a complaint that is not resolved.
        let mut complaint = failure;
        let mut resolved = false;
        for (t, &v) in toks.iter().zip(vals.iter()) {
            complaint |= t.e.flags & COMPLAINT != 0 && v <= 0.0;
            resolved |= t.e.flags & RESOLVED != 0 && v > 0.0;
        }
        if complaint && !resolved {
            for (t, v) in toks.iter().zip(vals.iter_mut()) {
                if t.e.flags & SARCASM != 0 && *v > 0.0 {
                    *v *= SARCASM_SCALAR;
                }
            }
        }
    }
}

#[derive(Default)]
struct Counts {
    excl: u32,
    quest: u32,
    /// Punctuation after the last token (`?` marks a final question).
    trailing_gap: u8,
    /// @-mentions seen: a post addressed to someone (a brand, in care).
    mentions: u32,
    cased_words: u32,
    upper_words: u32,
}

impl Counts {
    fn count_punct(&mut self, run: &[u8]) {
        for &c in run {
            if c == b'!' {
                self.excl += 1;
            } else if c == b'?' {
                self.quest += 1;
            }
        }
    }
}

fn punct_amplifier(excl: u32, quest: u32) -> f32 {
    let ep = excl.min(4) as f32 * 0.292;
    let qm = match quest {
        0 | 1 => 0.0,
        2 | 3 => quest as f32 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

fn run_gap(run: &[u8]) -> u8 {
    let mut g = 0;
    let mut dots = 0;
    for &c in run {
        match c {
            b'.' => {
                dots += 1;
                g |= GAP_END;
            }
            b'!' => g |= GAP_END,
            b'?' => g |= GAP_END | GAP_QUESTION,
            b',' | b';' | b':' | b'(' | b')' | b'"' | b'-' | b'/' => g |= GAP_COMMA,
            _ => {}
        }
    }
    if dots >= 2 {
        g |= GAP_ELLIPSIS;
    }
    g
}

fn trim_sentence_punct(run: &[u8]) -> &[u8] {
    let is_p = |c: &u8| matches!(c, b'.' | b',' | b'!' | b'?' | b'"' | b'\'');
    let s = run.iter().position(|c| !is_p(c)).unwrap_or(run.len());
    let e = run.iter().rposition(|c| !is_p(c)).map_or(s, |p| p + 1);
    &run[s..e.max(s)]
}

fn is_handle_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_url(chunk: &[u8]) -> bool {
    let starts = |p: &[u8]| chunk.len() > p.len() && chunk[..p.len()].eq_ignore_ascii_case(p);
    starts(b"http://") || starts(b"https://") || starts(b"www.")
}

fn lower_ascii(s: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend(s.iter().map(|c| c.to_ascii_lowercase()));
}

/// Copies `src` into `dst` with every run of 3+ equal bytes cut to `keep` bytes.
fn collapse_runs(src: &[u8], dst: &mut Vec<u8>, keep: usize) {
    dst.clear();
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        let mut j = i;
        while j < src.len() && src[j] == c {
            j += 1;
        }
        let len = j - i;
        let out = if len >= 3 { keep } else { len };
        dst.extend(std::iter::repeat(c).take(out));
        i = j;
    }
}

/// Decodes the UTF-8 char at `i` of a byte slice taken from a `&str`.
fn decode(b: &[u8], i: usize) -> (char, usize) {
    let len = match b[i] {
        x if x < 0x80 => 1,
        x if x >= 0xF0 => 4,
        x if x >= 0xE0 => 3,
        _ => 2,
    };
    let end = (i + len).min(b.len());
    match std::str::from_utf8(&b[i..end])
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) => (c, len),
        None => ('\u{FFFD}', 1),
    }
}

/// Entry for a word missing from the lexicon: only the "n't" negation can apply.
fn unknown(word: &[u8]) -> Entry {
    let nt = word.len() >= 3 && word.windows(3).any(|w| w == b"n't");
    let digits = word.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut flags = if nt { NEGATE | NEGV } else { 0 };
    if digits > 0 && digits == word.len() {
        flags |= NUM;
    } else if digits > 0 && is_time_unit(&word[digits..]) {
        flags |= NUM | DURATION;
    }
    Entry {
        flags,
        ..Entry::default()
    }
}

const TIME_UNITS: &[&str] = &[
    "h", "hr", "hrs", "hour", "hours", "min", "mins", "minute", "minutes", "day", "days", "wk",
    "wks", "week", "weeks", "month", "months",
];

fn is_time_unit(w: &[u8]) -> bool {
    TIME_UNITS.iter().any(|u| u.as_bytes() == w)
}

/// Care rules that need the token sequence: negated verbs, durations, praise in questions.
/// Returns whether they found a service failure (for the sarcasm rule).
/// The negated-verb and duration rules apply only to posts addressed to someone (`@brand`):
/// in general chatter "can't go tonight" or "2 hours" are not service failures.
fn care_rules(toks: &[Tok], trailing_gap: u8, addressed: bool, vals: &mut [f32]) -> bool {
    let n = toks.len();
    let mut failure = false;
    let breaks = |t: &Tok| t.gap & (GAP_END | GAP_COMMA) != 0;
    for i in 0..n {
        let f = toks[i].e.flags;
        // "why ...?", "again" in a post to a brand: a complaint; in chatter, nothing.
        if addressed && toks[i].e.to_brand != 0.0 && vals[i] == 0.0 {
            vals[i] = toks[i].e.to_brand;
        }
        // "can't check in", "didn't even get", "nobody is at the counter".
        if addressed && f & NEGV != 0 {
            let mut j = i + 1;
            while j < n && j <= i + 3 && !breaks(&toks[j]) && toks[j].e.flags & FUNC != 0 {
                j += 1;
            }
            if j < n && !breaks(&toks[j]) && vals[j] == 0.0 {
                let g = toks[j].e.flags;
                if g & (LEX | BOOST | NEGATE | FUNC | NEGV_EXEMPT | NUM) == 0 {
                    vals[j] = NEG_VERB;
                    failure = true;
                }
            }
        }
        // "45 minutes", "3 hrs", "45min" (not "in 2 hours").
        if addressed && f & DURATION != 0 && vals[i] == 0.0 {
            let num = if f & NUM != 0 {
                Some(i)
            } else if i > 0 && toks[i - 1].e.flags & NUM != 0 && !breaks(&toks[i]) {
                Some(i - 1)
            } else {
                None
            };
            if let Some(k) = num {
                let planned = k > 0 && toks[k - 1].e.flags & IN != 0;
                if !planned {
                    // Not a failure for the sarcasm rule: "arrived a day early, thanks!".
                    vals[i] = DURATION_VAL;
                }
            }
        }
    }
    // Praise inside a question is mostly a request: "is flight 410 on time?".
    let mut asked = false;
    let mut start = 0;
    for end in 1..=n {
        let closes = end == n || toks[end].gap & GAP_END != 0;
        if !closes {
            continue;
        }
        let gap = if end == n {
            trailing_gap
        } else {
            toks[end].gap
        };
        if gap & GAP_QUESTION != 0 {
            asked = true;
            for v in vals[start..end].iter_mut() {
                if *v > 0.0 {
                    *v *= QUESTION_POS_SCALAR;
                }
            }
        }
        start = end;
    }
    // "Any update on my bag? Thanks": in a post that asks the brand for something, the
    // thank-you is a formula (care teams and their customers read it as neutral).
    if addressed && (asked || toks.iter().any(|t| t.e.flags & REQUEST != 0)) {
        for (t, v) in toks.iter().zip(vals.iter_mut()) {
            if t.e.flags & COURTESY != 0 && *v > 0.0 {
                *v *= COURTESY_SCALAR;
            }
        }
    }
    failure
}

struct Builder {
    words: AHashMap<Box<[u8]>, Entry>,
    phrases: AHashMap<[u32; MAX_PHRASE], Entry>,
    emoji: AHashMap<char, f32>,
    next_id: u32,
    care: bool,
}

impl Builder {
    fn new(care: bool) -> Builder {
        let mut b = Builder {
            words: AHashMap::with_capacity(8192),
            phrases: AHashMap::new(),
            emoji: AHashMap::new(),
            next_id: 1,
            care,
        };
        for line in VADER_LEXICON.lines() {
            let mut f = line.split('\t');
            let (Some(term), Some(val)) = (f.next(), f.next()) else {
                continue;
            };
            let Ok(val) = val.trim().parse::<f32>() else {
                continue;
            };
            let term = term.trim().to_lowercase();
            b.edit(&term, |e| {
                e.valence = val;
                e.flags |= LEX;
            });
        }
        for w in NEGATE_WORDS {
            b.edit(w, |e| e.flags |= NEGATE);
        }
        for &(w, s) in BOOSTERS {
            b.edit(w, |e| {
                e.booster = s;
                e.flags |= BOOST;
            });
        }
        for &(w, v) in IDIOMS {
            b.edit(w, |e| {
                e.valence = v;
                e.flags |= LEX;
            });
        }
        let marks: &[(&str, u32)] = &[
            ("but", BUT),
            ("no", NO),
            ("never", NEVER),
            ("so", SO_THIS),
            ("this", SO_THIS),
            ("without", WITHOUT),
            ("doubt", DOUBT),
            ("least", LEAST),
            ("at", AT_VERY),
            ("very", AT_VERY),
            ("or", OR_NOR),
            ("nor", OR_NOR),
            ("not", NOT),
            ("like", LIKE),
        ];
        for &(w, f) in marks {
            b.edit(w, |e| e.flags |= f);
        }
        if care {
            for w in NEGV_WORDS {
                b.edit(w, |e| e.flags |= NEGV);
            }
            for w in FUNC_WORDS {
                b.edit(w, |e| e.flags |= FUNC);
            }
            for w in NEGV_EXEMPT_WORDS {
                b.edit(w, |e| e.flags |= NEGV_EXEMPT);
            }
            for w in TIME_UNITS {
                b.edit(w, |e| e.flags |= DURATION);
            }
            for w in ["in", "within", "every", "per", "only", "just"] {
                b.edit(w, |e| e.flags |= IN);
            }
            for w in [
                "one", "two", "three", "four", "five", "six", "several", "few", "24", "48",
            ] {
                b.edit(w, |e| e.flags |= NUM);
            }
        }
        // Who can "like" something: the verb, not the filler ("it was like 5 hours").
        for w in [
            "i",
            "we",
            "you",
            "they",
            "he",
            "she",
            "i'd",
            "we'd",
            "you'd",
            "they'd",
            "would",
            "really",
            "also",
            "totally",
            "do",
            "don't",
            "dont",
            "didn't",
            "didnt",
            "doesn't",
            "doesnt",
            "just",
            "u",
            "ya",
            "to",
            "people",
            "who",
            "still",
            "definitely",
        ] {
            b.edit(w, |e| e.flags |= SUBJECT);
        }
        if care {
            b.care_layer();
        }
        // Emoji: VADER reads each emoji as its description; we precompute the description's
        // valence (sum of its words' lexicon valences). The care layer may override it.
        for line in VADER_EMOJI.lines() {
            let mut f = line.split('\t');
            let (Some(sym), Some(desc)) = (f.next(), f.next()) else {
                continue;
            };
            let mut chars = sym.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                continue;
            };
            if b.emoji.contains_key(&c) {
                continue;
            }
            let v: f32 = desc
                .split_whitespace()
                .filter_map(|w| b.words.get(w.to_lowercase().as_bytes()))
                .filter(|e| e.flags & LEX != 0)
                .map(|e| e.valence)
                .sum();
            if v != 0.0 {
                b.emoji.insert(c, v.clamp(-3.5, 3.5));
            }
        }
        b
    }

    fn care_layer(&mut self) {
        for (ln, line) in CARE_LEXICON.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut f = line.split('\t');
            let term = f.next().unwrap_or("").trim().to_lowercase();
            let val = f.next().unwrap_or("_").trim();
            let tags = f.next().unwrap_or("").trim();
            let valence = if val == "_" {
                None
            } else {
                Some(
                    val.parse::<f32>()
                        .unwrap_or_else(|_| panic!("care.txt:{}: bad valence", ln + 1)),
                )
            };
            let mut chars = term.chars();
            if let (Some(c), None) = (chars.next(), chars.clone().next()) {
                if !c.is_alphanumeric() {
                    self.emoji.insert(c, valence.unwrap_or(0.0));
                    continue;
                }
            }
            let mut flags = 0;
            let mut neg = 0.0;
            let mut booster = None;
            let mut to_brand = 0.0;
            for tag in tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                match tag {
                    "complaint" => flags |= COMPLAINT,
                    "sarcasm" => flags |= SARCASM,
                    "resolved" => flags |= RESOLVED,
                    "negate" => flags |= NEGATE,
                    "courtesy" => flags |= COURTESY,
                    "request" => flags |= REQUEST,
                    t if t.starts_with("neg=") => {
                        neg = t[4..]
                            .parse()
                            .unwrap_or_else(|_| panic!("care.txt:{}: bad neg=", ln + 1))
                    }
                    t if t.starts_with("brand=") => {
                        to_brand = t[6..]
                            .parse()
                            .unwrap_or_else(|_| panic!("care.txt:{}: bad brand=", ln + 1))
                    }
                    t if t.starts_with("booster=") => {
                        booster = Some(
                            t[8..]
                                .parse()
                                .unwrap_or_else(|_| panic!("care.txt:{}: bad booster=", ln + 1)),
                        )
                    }
                    t => panic!("care.txt:{}: unknown tag {t:?}", ln + 1),
                }
            }
            self.edit(&term, |e| {
                if let Some(v) = valence {
                    e.valence = v;
                    e.flags |= LEX;
                } else if neg != 0.0 {
                    e.flags |= LEX;
                }
                e.flags |= flags;
                if neg != 0.0 {
                    e.neg_valence = neg;
                }
                if to_brand != 0.0 {
                    e.to_brand = to_brand;
                }
                if let Some(s) = booster {
                    e.booster = s;
                    e.flags |= BOOST;
                }
            });
        }
    }

    fn id(&mut self, w: &str) -> u32 {
        let e = self
            .words
            .entry(w.as_bytes().into())
            .or_insert_with(|| unknown(w.as_bytes()));
        if e.id == 0 {
            e.id = self.next_id;
            self.next_id += 1;
        }
        e.id
    }

    /// Edits the entry of a word or of a phrase (words separated by spaces).
    fn edit(&mut self, term: &str, f: impl FnOnce(&mut Entry)) {
        let parts: Vec<&str> = term.split(' ').filter(|p| !p.is_empty()).collect();
        if parts.len() <= 1 {
            let e = self.words.entry(term.as_bytes().into()).or_default();
            f(e);
            return;
        }
        let wordy = parts
            .iter()
            .all(|p| p.chars().next().is_some_and(char::is_alphanumeric));
        if parts.len() > MAX_PHRASE || !wordy {
            return; // e.g. VADER's `( '}{' )`: never a run of word tokens
        }
        let mut key = [0u32; MAX_PHRASE];
        for (k, p) in parts.iter().enumerate() {
            key[k] = self.id(p);
        }
        let first = self
            .words
            .get_mut(parts[0].as_bytes())
            .expect("id() inserted it");
        first.max_phrase = first.max_phrase.max(parts.len() as u8);
        f(self.phrases.entry(key).or_default());
    }

    fn finish(mut self) -> Analyzer {
        // Emoticons (":(", "<3") are the lexicon's entries that do not start with a letter
        // or digit.
        for (w, e) in self.words.iter_mut() {
            if w.first().is_some_and(|c| c.is_ascii_punctuation()) {
                e.flags |= EMOTE;
            }
        }
        Analyzer {
            words: self.words,
            phrases: self.phrases,
            emoji: self.emoji,
            care: self.care,
        }
    }
}

fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Analyzer>();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> f32 {
        Analyzer::shared().score(text)
    }
    fn base(text: &str) -> f32 {
        static B: OnceLock<Analyzer> = OnceLock::new();
        B.get_or_init(Analyzer::base_only).score(text)
    }
    fn label(text: &str) -> Label {
        Analyzer::shared().analyze(text).label
    }

    #[test]
    fn vader_reference_examples() {
        // Compound scores of VADER 3.3.2 (Python) on its own examples.
        let cases = [
            ("VADER is smart, handsome, and funny.", 0.8316),
            ("VADER is smart, handsome, and funny!", 0.8439),
            ("VADER is very smart, handsome, and funny.", 0.8545),
            ("VADER is VERY SMART, handsome, and FUNNY.", 0.9227),
            ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342),
            ("VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", 0.9469),
            ("VADER is not smart, handsome, nor funny.", -0.7424),
            ("The book was good.", 0.4404),
            ("At least it isn't a horrible book.", 0.431),
            ("The book was only kind of good.", 0.3832),
            ("The plot was good, but the characters are uncompelling and the dialog is not great.", -0.7042),
            ("Today SUX!", -0.5461),
            ("Today only kinda sux! But I'll get by, lol", 0.5249),
            // VADER says 0.8633: it counts ":D" as an ALL-CAPS word; we do not.
            ("Make sure you :) or :D today!", 0.8357),
            ("Not bad at all", 0.431),
            ("Sentiment analysis has never been good.", -0.3412),
            ("Sentiment analysis has never been this good!", 0.5672),
            ("Most automated sentiment analysis tools are shit.", -0.5574),
            ("With VADER, sentiment analysis is the shit!", 0.6476),
            ("Other sentiment analysis tools can be quite bad.", -0.5849),
            // Not compared: "quite bad ass" (VADER counts the idiom on both of its words).
            ("Roger Dodger is one of the least compelling variations on this theme.", -0.1695),
        ];
        for (text, want) in cases {
            let got = base(text);
            assert!(
                (got - want).abs() < 0.02,
                "{text:?}: got {got}, VADER {want}"
            );
        }
    }

    #[test]
    fn labels_and_range() {
        assert_eq!(label("I love this phone"), Label::Positive);
        assert_eq!(label("This is the worst airline ever"), Label::Negative);
        assert_eq!(label("The store opens at 9 on Monday"), Label::Neutral);
        assert_eq!(label(""), Label::Neutral);
        assert_eq!(label("   @user https://t.co/abc  "), Label::Neutral);
        for t in [
            "GREAT GREAT GREAT!!!!!",
            "worst worst worst worst worst hate hate kill!!!!",
        ] {
            let v = s(t);
            assert!((-1.0..=1.0).contains(&v), "{t}: {v}");
        }
    }

    #[test]
    fn tokenizer_details() {
        // mentions and URLs are ignored; hashtags are looked up without '#'
        assert_eq!(s("@happy http://love.com"), 0.0);
        assert!(s("#fail") < -0.3);
        // elongation and curly / backtick apostrophes
        assert!(s("sooooo goood") > s("so good") - 0.01);
        assert!(s("I loooooove it") > 0.5);
        assert!(s("it doesn’t work") < -0.2);
        assert!(s("it doesn`t work") < -0.2);
        // emoticons, glued or alone, and emoji
        assert!(s("thanks:)") > 0.3);
        assert!(s(":(") < -0.3);
        assert!(s("<3") > 0.3);
        assert!(s("😡") < -0.3);
        assert!(s("😍😍") > 0.3);
        // non-ASCII words do not break anything
        assert_eq!(label("Straße geschlossen, 東京"), Label::Neutral);
        assert!(s("ÉNORME déception 😞") < 0.0);
    }

    #[test]
    fn care_language() {
        for t in [
            "My flight got cancelled and nobody answers the phone",
            "been on hold for 2 hours",
            "still waiting for my refund",
            "you charged me twice",
            "lost my bag again @Airline",
            "the app doesn't work",
            "no reply to my emails for a week",
            "thanks for nothing",
            "Great job... not",
            "Thanks a lot for cancelling my flight",
            "Love waiting on hold for an hour",
            "my package never arrived",
            "#fail",
            "wifi is down again",
        ] {
            assert_eq!(label(t), Label::Negative, "{t}: {}", s(t));
        }
        for t in [
            "Thanks for the quick response, all sorted now!",
            "Great service today, thank you",
            "Refunded within a day, thanks!",
            "can't wait for my new phone",
            "no problem at all, works perfectly",
        ] {
            assert_eq!(label(t), Label::Positive, "{t}: {}", s(t));
        }
        for t in [
            "What time does the store open?",
            "Where do I send my receipt",
        ] {
            assert_eq!(label(t), Label::Neutral, "{t}: {}", s(t));
        }
    }

    #[test]
    fn care_sequence_rules() {
        // Negated verbs and durations count in posts addressed to someone, not in chatter.
        assert_eq!(label("@SkyJetAir can't check in online"), Label::Negative);
        assert_eq!(label("@SkyJetAir didn't even get my bag"), Label::Negative);
        assert_eq!(label("@SkyJetAir on the phone 45 minutes"), Label::Negative);
        assert_eq!(label("@SkyJetAir 3hrs at the gate"), Label::Negative);
        assert_eq!(label("can't check in online"), Label::Neutral);
        assert_eq!(
            label("@SkyJetAir boarding starts in 20 minutes"),
            Label::Neutral
        );
        assert_ne!(label("@SkyJetAir don't worry about it"), Label::Negative);
        // Negation stays inside its sentence: "worst" is not negated by "wouldn't".
        assert_eq!(
            label("I wish they wouldn't ship with them. Worst service out there"),
            Label::Negative
        );
        // Praise inside a question is a request.
        assert!(s("@SkyJetAir is flight 410 on time today?") < 0.1);
        assert_eq!(
            label("@SkyJetAir flight 410 was on time today!"),
            Label::Positive
        );
        // Sarcasm with a duration-free failure; intensifier and elongation.
        assert_eq!(
            label("Thanks @SkyJetAir for the huge delays. So thrilled."),
            Label::Negative
        );
        assert!(s("@SkyJetAir sooo rude") < s("@SkyJetAir rude"));
        assert!(s("@SkyJetAir very rude") < s("@SkyJetAir rude"));
        // The airline-corpus artifacts.
        assert_eq!(label("@SkyJetAir Cancelled Flightled"), Label::Negative);
        assert_eq!(label("@SkyJetAir Late Flight again"), Label::Negative);
        // A thank-you in a request is courtesy; on its own, or in a complaint, it is not.
        let req = "@SkyJetAir can you update my tier points please - thanks";
        assert_eq!(label(req), Label::Neutral);
        assert_eq!(
            label("@SkyJetAir do you fly to Lima in December? Thanks"),
            Label::Neutral
        );
        assert_eq!(
            label("@SkyJetAir Thanks in advance for checking my booking, DM sent"),
            Label::Neutral
        );
        assert_eq!(
            label("@SkyJetAir thanks for the quick reply"),
            Label::Positive
        );
        assert_eq!(
            label("@SkyJetAir thanks for losing my bag. Can you find it?"),
            Label::Negative
        );
        // Without a brand to ask, a "thanks" with a question is still thanks.
        assert_eq!(label("thanks mom! see you sunday?"), Label::Positive);
        // Said to a brand, "why" and "once again" complain; in chatter they say nothing.
        assert_eq!(
            label("@SkyJetAir why was the earlier flight never offered?"),
            Label::Negative
        );
        assert_eq!(label("@SkyJetAir once again the app"), Label::Negative);
        assert_eq!(label("why do birds sing?"), Label::Neutral);
        assert_eq!(label("once again the app"), Label::Neutral);
        // A care phrase that carries a valence and negates still negates: "still not fixed".
        assert_eq!(label("@SkyJetAir Still not fixed!"), Label::Negative);
        assert_eq!(label("@SkyJetAir nobody cares"), Label::Negative);
        // A face is not negated: "nope :(" is sad.
        assert_eq!(label("@SkyJetAir nope :("), Label::Negative);
        assert_eq!(label("not bad :)"), Label::Positive);
        assert_eq!(label("@SkyJetAir I'm giving up on you"), Label::Negative);
        // Apps: "play" is the job; a diagnostic "no error message" is not good news.
        assert_eq!(
            label("@SkyJetAir the app won't play my playlist"),
            Label::Negative
        );
        assert_eq!(label("@SkyJetAir No error messages."), Label::Neutral);
        assert_eq!(label("@SkyJetAir Still the same."), Label::Negative);
        // "credit" is not praise in a card.
        assert_ne!(
            label("@SkyJetAir my credit card got debited twice"),
            Label::Positive
        );
    }

    #[test]
    fn long_and_hostile_input() {
        let long = "terrible ".repeat(20_000);
        assert!(s(&long) < -0.9);
        let weird = "\u{0}\u{7}!!!???...\u{FFFD}\u{200D}\u{FE0F}#@@##:-)";
        let _ = s(weird);
        let _ = s("a-b-c-d- -x --- 'n't' ''''");
    }
}
