//! The learning engine: an online 3-class logistic regression over hashed word and character
//! n-grams, stacked on the default engine and blended with it by confidence.
//!
//! - Features: word unigrams and bigrams, character 4-grams of the normalized text
//!   (lower case, elongations cut to two letters, @handles and URLs folded to one token each),
//!   hashed into [`DIM`] slots; plus the default engine's score and label as dense inputs, so
//!   the model learns how far to trust the engine on this team's traffic.
//! - Learning: one AdaGrad step of the softmax cross-entropy per labeled text (a correction is
//!   learned immediately, no batch retraining).
//! - Blending: `p = a * p_model + (1 - a) * p_engine` where the weight of the model `a` grows
//!   with the number of texts it has learned from (`n / (n + BLEND_RAMP)`) and with its own
//!   confidence; with no corrections the output is exactly the default engine's.
//!
//! A model is a few MB in memory; [`Learner::to_bytes`] stores only the slots that learned
//! something (versioned little-endian blob, see `docs/sentiment.md`).
use crate::model::Label;
use std::cell::RefCell;

use super::sentiment::{label_for, Analyzer, Sentiment};

/// log2 of the number of hashed feature slots.
pub const DIM_BITS: u32 = 18;
pub const DIM: usize = 1 << DIM_BITS;
const MASK: u32 = (DIM as u32) - 1;
/// Learning rate of AdaGrad.
const LR: f32 = 1.5;
/// Texts learned after which the model has half its weight in the blend.
const BLEND_RAMP: f32 = 10.0;
/// Blob format version written by [`Learner::to_bytes`].
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"SWSENT\0\0";

// Dense inputs (engine features) live in the last slots of the weight table.
const DENSE: usize = 6;
const D_BIAS: usize = DIM - DENSE;
const D_SCORE: usize = DIM - DENSE + 1;
const D_NEG: usize = DIM - DENSE + 2;
const D_NEU: usize = DIM - DENSE + 3;
const D_POS: usize = DIM - DENSE + 4;
const D_ABS: usize = DIM - DENSE + 5;

/// Index of a label in the 3-vectors: negative, neutral, positive.
pub fn class(l: Label) -> usize {
    match l {
        Label::Negative => 0,
        Label::Neutral => 1,
        Label::Positive => 2,
    }
}

pub fn label_of(c: usize) -> Label {
    match c {
        0 => Label::Negative,
        1 => Label::Neutral,
        _ => Label::Positive,
    }
}

/// A prediction: label, score in -1..=1 (`p(positive) - p(negative)` when blended, the
/// engine's compound score otherwise) and confidence in 0..=1 (probability of the label).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub label: Label,
    pub score: f32,
    pub confidence: f32,
    /// Class probabilities (negative, neutral, positive).
    pub probs: [f32; 3],
}

/// Pseudo-probabilities of the default engine from its compound score: sure far from the
/// thresholds, unsure near them.
pub fn engine_probs(score: f32) -> [f32; 3] {
    let k = 6.0;
    let t = super::sentiment::THRESHOLD;
    let neg = (k * (-score - t)).exp();
    let pos = (k * (score - t)).exp();
    let neu = 1.0;
    let z = neg + neu + pos;
    [neg / z, neu / z, pos / z]
}

/// The engine's own prediction (what the product does with no model).
pub fn engine_prediction(s: Sentiment) -> Prediction {
    let probs = engine_probs(s.score);
    let label = label_for(s.score);
    let conf = probs[class(label)].max(1.0 / 3.0);
    Prediction {
        label,
        score: s.score,
        confidence: conf,
        probs,
    }
}

#[derive(Default)]
struct Scratch {
    feats: Vec<u32>,
    norm: Vec<u8>,
    words: Vec<(u32, u32)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The online model. `Clone` is a full copy (a few MB).
#[derive(Clone)]
pub struct Learner {
    /// Weights per slot and class.
    w: Vec<[f32; 3]>,
    /// AdaGrad sum of squared gradients per slot (shared by the three classes).
    g: Vec<f32>,
    /// Texts learned from.
    pub learned: u64,
}

impl std::fmt::Debug for Learner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learner")
            .field("learned", &self.learned)
            .finish()
    }
}

impl Default for Learner {
    fn default() -> Self {
        Learner::new()
    }
}

impl Learner {
    /// An empty model: predicts exactly what the default engine does until it learns.
    pub fn new() -> Learner {
        let mut l = Learner {
            w: vec![[0.0; 3]; DIM],
            g: vec![0.0; DIM],
            learned: 0,
        };
        // Prior: trust the engine's label (the model starts as the engine, then corrects it).
        l.w[D_NEG] = [1.5, 0.0, -1.5];
        l.w[D_NEU] = [0.0, 1.0, 0.0];
        l.w[D_POS] = [-1.5, 0.0, 1.5];
        l.w[D_SCORE] = [-2.0, 0.0, 2.0];
        l
    }

    /// Predicts with `analyzer` as the default engine.
    pub fn predict(&self, analyzer: &Analyzer, text: &str) -> Prediction {
        let s = analyzer.analyze(text);
        with_features(text, |f| self.predict_feats(s, f))
    }

    /// Predicts `text`, then learns `gold` from it (one prequential step); returns the
    /// prediction made before learning.
    pub fn predict_learn(&mut self, analyzer: &Analyzer, text: &str, gold: Label) -> Prediction {
        let s = analyzer.analyze(text);
        with_features(text, |f| {
            let p = self.predict_feats(s, f);
            self.learn_feats(s, f, gold);
            p
        })
    }

    /// Learns that `text` is `gold`.
    pub fn learn(&mut self, analyzer: &Analyzer, text: &str, gold: Label) {
        let s = analyzer.analyze(text);
        with_features(text, |f| self.learn_feats(s, f, gold));
    }

    fn dense(s: Sentiment) -> [(usize, f32); 4] {
        let l = match s.label {
            Label::Negative => D_NEG,
            Label::Neutral => D_NEU,
            Label::Positive => D_POS,
        };
        [
            (D_BIAS, 1.0),
            (D_SCORE, s.score),
            (l, 1.0),
            (D_ABS, s.score.abs()),
        ]
    }

    fn logits(&self, s: Sentiment, feats: &[u32]) -> [f32; 3] {
        let mut z = [0.0f32; 3];
        let scale = feat_scale(feats.len());
        for &f in feats {
            let w = &self.w[f as usize];
            z[0] += w[0];
            z[1] += w[1];
            z[2] += w[2];
        }
        for z in z.iter_mut() {
            *z *= scale;
        }
        for (i, x) in Self::dense(s) {
            let w = &self.w[i];
            z[0] += w[0] * x;
            z[1] += w[1] * x;
            z[2] += w[2] * x;
        }
        z
    }

    fn predict_feats(&self, s: Sentiment, feats: &[u32]) -> Prediction {
        if self.learned == 0 {
            return engine_prediction(s);
        }
        let pm = softmax(self.logits(s, feats));
        let pe = engine_probs(s.score);
        let conf_m = pm[0].max(pm[1]).max(pm[2]);
        let n = self.learned as f32;
        // Weight of the model: grows with experience, and a sure model counts more.
        let a = (n / (n + BLEND_RAMP)) * (0.5 + 0.5 * conf_m);
        let a = a.clamp(0.0, 1.0);
        let mut probs = [0.0; 3];
        for c in 0..3 {
            probs[c] = a * pm[c] + (1.0 - a) * pe[c];
        }
        let mut best = 0;
        for c in 1..3 {
            if probs[c] > probs[best] {
                best = c;
            }
        }
        Prediction {
            label: label_of(best),
            score: (probs[2] - probs[0]).clamp(-1.0, 1.0),
            confidence: probs[best],
            probs,
        }
    }

    fn learn_feats(&mut self, s: Sentiment, feats: &[u32], gold: Label) {
        let p = softmax(self.logits(s, feats));
        let y = class(gold);
        let mut grad = p;
        grad[y] -= 1.0;
        let g2 = grad[0] * grad[0] + grad[1] * grad[1] + grad[2] * grad[2];
        let scale = feat_scale(feats.len());
        let step = |w: &mut [f32; 3], acc: &mut f32, x: f32| {
            *acc += g2 * x * x;
            let r = LR * x / (1.0 + acc.sqrt());
            w[0] -= r * grad[0];
            w[1] -= r * grad[1];
            w[2] -= r * grad[2];
        };
        for &f in feats {
            let f = f as usize;
            step(&mut self.w[f], &mut self.g[f], scale);
        }
        for (i, x) in Self::dense(s) {
            step(&mut self.w[i], &mut self.g[i], x);
        }
        self.learned += 1;
    }

    /// Serializes the model: only slots with a learned gradient are written.
    pub fn to_bytes(&self) -> Vec<u8> {
        let used: Vec<usize> = (0..DIM).filter(|&i| self.g[i] != 0.0).collect();
        let mut out = Vec::with_capacity(32 + used.len() * 20 + DENSE * 16);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&DIM_BITS.to_le_bytes());
        out.extend_from_slice(&self.learned.to_le_bytes());
        // Dense slots are always written (their prior is not zero).
        let mut slots: Vec<usize> = used;
        for i in D_BIAS..DIM {
            if !slots.contains(&i) {
                slots.push(i);
            }
        }
        out.extend_from_slice(&(slots.len() as u32).to_le_bytes());
        for i in slots {
            out.extend_from_slice(&(i as u32).to_le_bytes());
            for c in 0..3 {
                out.extend_from_slice(&self.w[i][c].to_le_bytes());
            }
            out.extend_from_slice(&self.g[i].to_le_bytes());
        }
        out
    }

    /// Reads a blob written by [`Learner::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<Learner, ModelFormatError> {
        let mut r = Reader { b, at: 0 };
        if r.take(8)? != MAGIC {
            return Err(ModelFormatError::NotAModel);
        }
        let version = r.u32()?;
        if version != FORMAT_VERSION {
            return Err(ModelFormatError::Version(version));
        }
        let bits = r.u32()?;
        if bits != DIM_BITS {
            return Err(ModelFormatError::Dim(bits));
        }
        let learned = r.u64()?;
        let n = r.u32()? as usize;
        if n > DIM {
            return Err(ModelFormatError::Truncated);
        }
        let mut l = Learner::new();
        l.learned = learned;
        for _ in 0..n {
            let i = r.u32()? as usize;
            if i >= DIM {
                return Err(ModelFormatError::Truncated);
            }
            for c in 0..3 {
                l.w[i][c] = finite(r.f32()?)?;
            }
            l.g[i] = finite(r.f32()?)?;
        }
        if r.at != b.len() {
            return Err(ModelFormatError::Truncated);
        }
        Ok(l)
    }
}

fn finite(x: f32) -> Result<f32, ModelFormatError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(ModelFormatError::Truncated)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelFormatError {
    #[error("not a Sunward sentiment model (export one with `sunward model export`)")]
    NotAModel,
    #[error("model format version {0} is not supported by this build (expected {FORMAT_VERSION})")]
    Version(u32),
    #[error("model has 2^{0} feature slots, this build uses 2^{DIM_BITS}")]
    Dim(u32),
    #[error("model file is truncated or corrupt")]
    Truncated,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelFormatError> {
        let end = self.at.checked_add(n).ok_or(ModelFormatError::Truncated)?;
        let s = self
            .b
            .get(self.at..end)
            .ok_or(ModelFormatError::Truncated)?;
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, ModelFormatError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn f32(&mut self) -> Result<f32, ModelFormatError> {
        Ok(f32::from_bits(self.u32()?))
    }
    fn u64(&mut self) -> Result<u64, ModelFormatError> {
        let lo = self.u32()? as u64;
        let hi = self.u32()? as u64;
        Ok(lo | (hi << 32))
    }
}

fn feat_scale(n: usize) -> f32 {
    1.0 / (n.max(1) as f32).sqrt()
}

fn softmax(z: [f32; 3]) -> [f32; 3] {
    let m = z[0].max(z[1]).max(z[2]);
    let e = [(z[0] - m).exp(), (z[1] - m).exp(), (z[2] - m).exp()];
    let s = e[0] + e[1] + e[2];
    [e[0] / s, e[1] / s, e[2] / s]
}

fn with_features<R>(text: &str, f: impl FnOnce(&[u32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => {
            let s = &mut *s;
            features(text.as_bytes(), &mut s.norm, &mut s.words, &mut s.feats);
            f(&s.feats)
        }
        Err(_) => {
            let mut s = Scratch::default();
            features(text.as_bytes(), &mut s.norm, &mut s.words, &mut s.feats);
            f(&s.feats)
        }
    })
}

const FNV: u32 = 0x811c_9dc5;
const PRIME: u32 = 0x0100_0193;

#[inline]
fn fnv(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h ^= b as u32;
        h = h.wrapping_mul(PRIME);
    }
    h
}

#[inline]
fn mix(h: u32) -> u32 {
    let mut x = h;
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// Hashed feature slots of a text (duplicates kept: a repeated n-gram counts more).
fn features(b: &[u8], norm: &mut Vec<u8>, words: &mut Vec<(u32, u32)>, out: &mut Vec<u32>) {
    normalize(b, norm, words);
    out.clear();
    let dense_start = D_BIAS as u32;
    let push = |out: &mut Vec<u32>, h: u32| {
        let mut s = mix(h) & MASK;
        if s >= dense_start {
            s -= DENSE as u32; // keep the dense slots for the engine inputs
        }
        out.push(s);
    };
    // Words and word bigrams (with start and end markers).
    let mut prev = fnv(FNV, b"<s>");
    for &(s, e) in words.iter() {
        let w = fnv(FNV ^ 0x5bd1_e995, &norm[s as usize..e as usize]);
        push(out, w);
        push(out, prev.wrapping_mul(31).wrapping_add(w) ^ 0x2545_f491);
        prev = w;
    }
    push(
        out,
        prev.wrapping_mul(31).wrapping_add(0x3c6e_f372) ^ 0x2545_f491,
    );
    // Character 4-grams of the normalized text (words joined by one space): they catch
    // spelling variants and inflections (`cancel`, `cancelled`, `cancellation`). 3- and 5-grams
    // added nothing on the evaluation streams (docs/sentiment.md).
    let n = norm.len();
    for n_len in [4usize] {
        if n < n_len {
            continue;
        }
        let seed = FNV ^ (n_len as u32).wrapping_mul(0x9e37_79b9);
        for i in 0..=n - n_len {
            push(out, fnv(seed, &norm[i..i + n_len]));
        }
    }
}

/// Lower-cased text with one space between tokens; `words` gets each token's byte range.
/// @handles become `@`, URLs `http`, digit runs `0`, runs of 3+ equal letters are cut to 2;
/// `!` and `?` runs are tokens; other ASCII punctuation separates; non-ASCII characters are
/// kept (emoji are single-character tokens, other letters stay in their words).
fn normalize(b: &[u8], norm: &mut Vec<u8>, words: &mut Vec<(u32, u32)>) {
    norm.clear();
    words.clear();
    norm.push(b' ');
    let n = b.len();
    let mut i = 0;
    let mut start: Option<usize> = None;
    let end_word = |norm: &mut Vec<u8>, words: &mut Vec<(u32, u32)>, start: &mut Option<usize>| {
        if let Some(s) = start.take() {
            if norm.len() > s {
                words.push((s as u32, norm.len() as u32));
                norm.push(b' ');
            }
        }
    };
    let token = |norm: &mut Vec<u8>, words: &mut Vec<(u32, u32)>, t: &[u8]| {
        let s = norm.len();
        norm.extend_from_slice(t);
        words.push((s as u32, norm.len() as u32));
        norm.push(b' ');
    };
    while i < n {
        let c = b[i];
        if c.is_ascii_alphanumeric() || (c == b'\'' && start.is_some()) {
            if start.is_none() {
                // URL or handle at a token start.
                let rest = &b[i..];
                if rest.len() > 7
                    && (rest[..7].eq_ignore_ascii_case(b"http://")
                        || rest.len() > 8 && rest[..8].eq_ignore_ascii_case(b"https://"))
                {
                    while i < n && !b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    token(norm, words, b"http");
                    continue;
                }
                start = Some(norm.len());
            }
            if c == b'\'' {
                i += 1;
                continue;
            }
            if c.is_ascii_digit() {
                if norm.last() != Some(&b'0') || norm.len() == start.unwrap_or(0) {
                    norm.push(b'0');
                }
                i += 1;
                continue;
            }
            let l = c.to_ascii_lowercase();
            let len = norm.len();
            let s = start.unwrap_or(len);
            if len >= s + 2 && norm[len - 1] == l && norm[len - 2] == l {
                i += 1;
                continue;
            }
            norm.push(l);
            i += 1;
            continue;
        }
        if c < 0x80 {
            end_word(norm, words, &mut start);
            if c == b'@' && i + 1 < n && (b[i + 1].is_ascii_alphanumeric() || b[i + 1] == b'_') {
                i += 1;
                while i < n && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                token(norm, words, b"@");
                continue;
            }
            if c == b'#' && i + 1 < n && b[i + 1].is_ascii_alphanumeric() {
                // Hashtags read as their word; the `#` itself is a weak token.
                token(norm, words, b"#");
                i += 1;
                continue;
            }
            if c == b'!' || c == b'?' {
                let s = i;
                while i < n && b[i] == c {
                    i += 1;
                }
                let t: &[u8] = match (c, i - s) {
                    (b'!', 1) => b"!",
                    (b'!', _) => b"!!",
                    (_, 1) => b"?",
                    _ => b"??",
                };
                token(norm, words, t);
                continue;
            }
            if c.is_ascii_punctuation() && i + 1 < n && b[i + 1].is_ascii_punctuation() {
                // Emoticons and other punctuation runs (`:)`, `:-(`, `...`) as tokens.
                let s = i;
                i += 1; // at least one byte: `@@`, `##` must not stall
                while i < n && b[i].is_ascii_punctuation() && b[i] != b'@' && b[i] != b'#' {
                    i += 1;
                }
                let run = &b[s..i.min(s + 4)];
                token(norm, words, run);
                continue;
            }
            i += 1;
            continue;
        }
        // Non-ASCII: decode one char.
        let len = match c {
            x if x >= 0xF0 => 4,
            x if x >= 0xE0 => 3,
            x if x >= 0xC0 => 2,
            _ => 1,
        };
        let end = (i + len).min(n);
        let ch = std::str::from_utf8(&b[i..end])
            .ok()
            .and_then(|s| s.chars().next());
        match ch {
            Some(ch) if ch.is_alphanumeric() => {
                if start.is_none() {
                    start = Some(norm.len());
                }
                for lc in ch.to_lowercase() {
                    let mut tmp = [0u8; 4];
                    norm.extend_from_slice(lc.encode_utf8(&mut tmp).as_bytes());
                }
            }
            Some('\u{2019}') | Some('\u{2018}') if start.is_some() => {}
            Some(ch) if (ch as u32) >= 0x2190 && ch != '\u{FE0F}' && ch != '\u{200D}' => {
                end_word(norm, words, &mut start);
                // Skin tones are not sentiment.
                if !('\u{1F3FB}'..='\u{1F3FF}').contains(&ch) {
                    token(norm, words, &b[i..end]);
                }
            }
            _ => end_word(norm, words, &mut start),
        }
        i = end;
    }
    end_word(norm, words, &mut start);
    // `norm` ends with a space after the last token: the char n-grams see word boundaries.
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(t: &str) -> String {
        let (mut n, mut w) = (Vec::new(), Vec::new());
        normalize(t.as_bytes(), &mut n, &mut w);
        String::from_utf8(n).unwrap()
    }

    #[test]
    fn normalization() {
        assert_eq!(
            norm("@United Flight 1234 CANCELLED!!! sooooo mad https://t.co/x"),
            " @ flight 0 cancelled !! soo mad http "
        );
        assert_eq!(norm("don't #fail 😡😡 :("), " dont # fail 😡 😡 :( ");
        assert_eq!(norm(""), " ");
    }

    #[test]
    fn empty_model_is_the_engine() {
        let a = Analyzer::shared();
        let l = Learner::new();
        for t in [
            "great service",
            "my flight was cancelled",
            "what time is it",
        ] {
            let p = l.predict(a, t);
            let s = a.analyze(t);
            assert_eq!(p.label, s.label, "{t}");
            assert_eq!(p.score, s.score, "{t}");
        }
    }

    #[test]
    fn a_correction_changes_the_next_prediction_of_a_similar_text() {
        let a = Analyzer::shared();
        let mut l = Learner::new();
        let t = "Is the lounge in terminal 2 open yet?";
        let similar = "is the lounge in terminal 5 open yet";
        let before = l.predict(a, similar);
        assert_ne!(before.label, Label::Negative);
        for _ in 0..3 {
            l.learn(a, t, Label::Negative);
        }
        let after = l.predict(a, similar);
        assert!(after.probs[0] > before.probs[0], "{before:?} -> {after:?}");
        assert_eq!(after.label, Label::Negative, "{after:?}");
    }

    #[test]
    fn round_trip_and_corrupt_blobs() {
        let a = Analyzer::shared();
        let mut l = Learner::new();
        l.learn(a, "the gate agent was rude", Label::Negative);
        l.learn(a, "crew was lovely", Label::Positive);
        let b = l.to_bytes();
        let l2 = Learner::from_bytes(&b).unwrap();
        assert_eq!(l2.learned, 2);
        let t = "rude crew";
        assert_eq!(l.predict(a, t), l2.predict(a, t));
        assert_eq!(
            Learner::from_bytes(b"nope").unwrap_err(),
            ModelFormatError::Truncated
        );
        assert_eq!(
            Learner::from_bytes(b"XXXXXXXXXXXXXXXXXXXXXXXX").unwrap_err(),
            ModelFormatError::NotAModel
        );
        assert!(Learner::from_bytes(&b[..b.len() - 3]).is_err());
        let mut bad = b.clone();
        bad[8] = 9;
        assert_eq!(
            Learner::from_bytes(&bad).unwrap_err(),
            ModelFormatError::Version(9)
        );
    }

    #[test]
    fn hostile_text() {
        let a = Analyzer::shared();
        let mut l = Learner::new();
        for t in [
            "",
            "\u{0}\u{7}!!!???",
            "'''''",
            "a",
            "🏻🏻",
            "http://",
            "@",
            "#",
            "@@ ## #@ @# #! !!#",
            "\u{FFFD}",
        ] {
            l.learn(a, t, Label::Neutral);
            let p = l.predict(a, t);
            assert!(p.confidence.is_finite() && (-1.0..=1.0).contains(&p.score));
        }
    }
}
