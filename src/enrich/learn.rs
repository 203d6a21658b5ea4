//! The learning engine: an online 3-class logistic regression over hashed word and character
//! n-grams, stacked on the default engine and on an online naive Bayes model of the same
//! features, blended with the default engine while it has learned little.
//!
//! - Features: word unigrams and bigrams, character 4-grams of the normalized text
//!   (lower case, elongations cut to two letters, @handles and URLs folded to one token each),
//!   plus the addressed @handle itself (in care traffic, which brand a post is written to says
//!   a lot), hashed into [`DIM`] slots; dense inputs: the default engine's score, |score| and
//!   label, so the model learns how far to trust the engine on this team's traffic, and the
//!   naive Bayes log-likelihoods of the three classes.
//! - Naive Bayes: per-slot class counts, updated with every label. It generalizes from a
//!   handful of examples faster than the regression does; its (honest: computed before the
//!   text is learned) log-likelihoods are inputs of the regression, which learns how much to
//!   trust them.
//! - Learning: one AdaGrad step of the softmax cross-entropy per labeled text (a correction is
//!   learned immediately, no batch retraining), weighted `(1 / (3 * share of the label))^0.3`
//!   so rare labels (often neutral and positive in care traffic) are not drowned.
//! - Blending: `p = a * p_model + (1 - a) * p_engine` with `a = n / (n + BLEND_RAMP)`; with no
//!   corrections the output is exactly the default engine's, and the model's prior weights
//!   reproduce the engine's label, so early corrections adjust the engine instead of
//!   replacing it.
//!
//! A model is about 10 MB in memory; [`Learner::to_bytes`] stores only the slots that learned
//! something (versioned little-endian blob, see `docs/sentiment.md`). Format 1 blobs (before
//! naive Bayes) load: their regression weights are kept, the naive Bayes part starts empty.
use crate::model::Label;
use std::cell::RefCell;

use super::sentiment::{label_for, Analyzer, Sentiment};

/// log2 of the number of hashed feature slots.
pub const DIM_BITS: u32 = 18;
pub const DIM: usize = 1 << DIM_BITS;
const MASK: u32 = (DIM as u32) - 1;
/// AdaGrad: step `LR * x / (ADA_EPS + sqrt(sum of squared gradients))`. Tuned on the
/// prequential streams (docs/sentiment.md): a larger `ADA_EPS` keeps the first steps of a
/// feature from overshooting on noisy labels.
const LR: f32 = 1.0;
const ADA_EPS: f32 = 3.0;
/// Texts learned after which the model has half its weight in the blend.
const BLEND_RAMP: f32 = 10.0;
/// Exponent of the class weight `(1 / (3 * share))^CLASS_WEIGHT`.
const CLASS_WEIGHT: f32 = 0.3;
/// Naive Bayes: additive smoothing per slot, and the scale of its inputs to the regression.
const NB_ALPHA: f32 = 0.1;
const NB_SCALE: f32 = 0.5;
/// Prior weight of the naive Bayes inputs (a correction moves similar texts at once).
const NB_PRIOR: f32 = 1.0;
/// Blob format version written by [`Learner::to_bytes`].
pub const FORMAT_VERSION: u32 = 2;
const MAGIC: &[u8; 8] = b"SWSENT\0\0";

// Dense inputs (engine features) live in the last slots of the weight table (as in format 1,
// so format 1 weights load unchanged); the naive Bayes inputs have their own small table.
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

/// Everything the model keeps per hashed slot, side by side: a text touches ~100 random
/// slots, and one cache line per slot is what keeps learning above 100k texts/s.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Slot {
    /// Regression weights per class.
    w: [f32; 3],
    /// AdaGrad sum of squared gradients (shared by the three classes).
    g: f32,
    /// `ln(nb + NB_ALPHA)`, kept beside the counts so that a prediction only adds.
    nb_ln: [f32; 3],
    /// Naive Bayes: feature mass per class (sum of the feature values learned).
    nb: [f32; 3],
}

/// The online model. `Clone` is a full copy (about 10 MB).
#[derive(Clone)]
pub struct Learner {
    s: Vec<Slot>,
    /// Naive Bayes: feature mass per class, and the number of slots with any mass.
    nb_total: [f32; 3],
    nb_slots: u32,
    /// Regression weights (per naive Bayes input, per class) and their AdaGrad sums.
    nb_w: [[f32; 3]; 3],
    nb_g: [f32; 3],
    /// Texts learned per label (for the class weights).
    docs: [u64; 3],
    /// Texts learned from.
    pub learned: u64,
}

impl std::fmt::Debug for Learner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learner")
            .field("learned", &self.learned)
            .field("docs", &self.docs)
            .finish()
    }
}

impl Default for Learner {
    fn default() -> Self {
        Learner::new()
    }
}

/// What the dense part of the model sees of one text.
#[derive(Clone, Copy)]
struct Inputs {
    engine: Sentiment,
    /// Naive Bayes log-likelihoods, centred and scaled (zero before anything was learned).
    nb: [f32; 3],
}

impl Learner {
    /// An empty model: predicts exactly what the default engine does until it learns.
    pub fn new() -> Learner {
        let empty = Slot {
            w: [0.0; 3],
            g: 0.0,
            nb_ln: [NB_ALPHA.ln(); 3],
            nb: [0.0; 3],
        };
        let mut l = Learner {
            s: vec![empty; DIM],
            nb_total: [0.0; 3],
            nb_slots: 0,
            nb_w: [
                [NB_PRIOR, 0.0, 0.0],
                [0.0, NB_PRIOR, 0.0],
                [0.0, 0.0, NB_PRIOR],
            ],
            nb_g: [0.0; 3],
            docs: [0; 3],
            learned: 0,
        };
        // Prior: trust the engine's label (the model starts as the engine, then corrects it).
        l.s[D_NEG].w = [1.5, 0.0, -1.5];
        l.s[D_NEU].w = [0.0, 1.0, 0.0];
        l.s[D_POS].w = [-1.5, 0.0, 1.5];
        l.s[D_SCORE].w = [-2.0, 0.0, 2.0];
        l
    }

    /// Texts learned per label (negative, neutral, positive).
    pub fn learned_by_label(&self) -> [u64; 3] {
        self.docs
    }

    /// Predicts with `analyzer` as the default engine.
    pub fn predict(&self, analyzer: &Analyzer, text: &str) -> Prediction {
        let s = analyzer.analyze(text);
        if self.learned == 0 {
            return engine_prediction(s);
        }
        with_features(text, |f| self.blend(s, self.forward(s, f).1))
    }

    /// Predicts `text`, then learns `gold` from it (one prequential step); returns the
    /// prediction made before learning.
    pub fn predict_learn(&mut self, analyzer: &Analyzer, text: &str, gold: Label) -> Prediction {
        let s = analyzer.analyze(text);
        with_features(text, |f| {
            // One pass over the weights serves the prediction and the gradient.
            let (inp, pm) = self.forward(s, f);
            let p = self.blend(s, pm);
            self.learn_feats(inp, f, gold, pm);
            p
        })
    }

    /// Learns that `text` is `gold`.
    pub fn learn(&mut self, analyzer: &Analyzer, text: &str, gold: Label) {
        let s = analyzer.analyze(text);
        with_features(text, |f| {
            let (inp, pm) = self.forward(s, f);
            self.learn_feats(inp, f, gold, pm)
        });
    }

    /// The model's class probabilities for a text, and the dense inputs they came from; one
    /// pass over the text's slots sums both the regression weights and the naive Bayes logs.
    fn forward(&self, engine: Sentiment, feats: &[u32]) -> (Inputs, [f32; 3]) {
        let mut z = [0.0f32; 3];
        let mut l = [0.0f32; 3];
        for &f in feats {
            let s = &self.s[f as usize];
            for c in 0..3 {
                z[c] += s.w[c];
                l[c] += s.nb_ln[c];
            }
        }
        let scale = feat_scale(feats.len());
        for z in z.iter_mut() {
            *z *= scale;
        }
        let inp = Inputs {
            engine,
            nb: self.nb_inputs(l, feats.len()),
        };
        for (i, x) in Self::dense(engine) {
            let w = &self.s[i].w;
            z[0] += w[0] * x;
            z[1] += w[1] * x;
            z[2] += w[2] * x;
        }
        for (w, x) in self.nb_w.iter().zip(inp.nb) {
            z[0] += w[0] * x;
            z[1] += w[1] * x;
            z[2] += w[2] * x;
        }
        (inp, softmax(z))
    }

    /// Naive Bayes log-likelihood of the text under each class (features weighted like the
    /// regression's), centred over the classes (only their differences matter); `ln_sum` is
    /// the sum of the text's slots' `ln(count + NB_ALPHA)`.
    fn nb_inputs(&self, ln_sum: [f32; 3], n_feats: usize) -> [f32; 3] {
        if self.nb_slots == 0 || n_feats == 0 {
            return [0.0; 3];
        }
        let x = feat_scale(n_feats);
        let n = n_feats as f32 * x;
        let v = NB_ALPHA * self.nb_slots as f32;
        let mut z = [0.0f32; 3];
        for c in 0..3 {
            z[c] = ln_sum[c] * x - n * (self.nb_total[c] + v).ln();
        }
        let m = (z[0] + z[1] + z[2]) / 3.0;
        [
            (z[0] - m) * NB_SCALE,
            (z[1] - m) * NB_SCALE,
            (z[2] - m) * NB_SCALE,
        ]
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

    /// Blends the model's probabilities `pm` with the engine's.
    fn blend(&self, engine: Sentiment, pm: [f32; 3]) -> Prediction {
        if self.learned == 0 {
            return engine_prediction(engine);
        }
        let pe = engine_probs(engine.score);
        let n = self.learned as f32;
        // Weight of the model: grows with experience. (Weighting it by its own confidence
        // as well cost 0.01 macro-F1 on the streams once naive Bayes was in.)
        let a = n / (n + BLEND_RAMP);
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

    /// One AdaGrad step towards `gold`, given the model's probabilities `p` for this text.
    fn learn_feats(&mut self, inp: Inputs, feats: &[u32], gold: Label, p: [f32; 3]) {
        let y = class(gold);
        let mut grad = p;
        grad[y] -= 1.0;
        // Rare labels weigh more (macro-F1 counts every class alike); smoothed, so the first
        // corrections of a new label do not jump.
        let total = (self.docs[0] + self.docs[1] + self.docs[2]) as f32 + 3.0;
        let share = (self.docs[y] as f32 + 1.0) / total;
        let cw = (1.0 / (3.0 * share)).powf(CLASS_WEIGHT);
        for g in grad.iter_mut() {
            *g *= cw;
        }
        let g2 = grad[0] * grad[0] + grad[1] * grad[1] + grad[2] * grad[2];
        let scale = feat_scale(feats.len());
        let step = |w: &mut [f32; 3], acc: &mut f32, x: f32| {
            *acc += g2 * x * x;
            let r = LR * x / (ADA_EPS + acc.sqrt());
            w[0] -= r * grad[0];
            w[1] -= r * grad[1];
            w[2] -= r * grad[2];
        };
        for &f in feats {
            let f = f as usize;
            let s = &mut self.s[f];
            step(&mut s.w, &mut s.g, scale);
        }
        for (i, x) in Self::dense(inp.engine) {
            let s = &mut self.s[i];
            step(&mut s.w, &mut s.g, x);
        }
        for i in 0..3 {
            step(&mut self.nb_w[i], &mut self.nb_g[i], inp.nb[i]);
        }
        // Naive Bayes counts, after the regression step (its inputs stay honest: computed
        // before this text was counted).
        for &f in feats {
            let f = f as usize;
            let s = &mut self.s[f];
            if s.nb == [0.0; 3] {
                self.nb_slots += 1;
            }
            s.nb[y] += scale;
            s.nb_ln[y] = (s.nb[y] + NB_ALPHA).ln();
        }
        self.nb_total[y] += scale * feats.len() as f32;
        self.docs[y] += 1;
        self.learned += 1;
    }
    /// Serializes the model (format 2): only slots that learned something are written.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut slots: Vec<usize> = (0..D_BIAS)
            .filter(|&i| self.s[i].g != 0.0 || self.s[i].nb != [0.0; 3])
            .collect();
        // Dense slots are always written (their prior is not zero).
        slots.extend(D_BIAS..DIM);
        let mut out = Vec::with_capacity(128 + slots.len() * 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&DIM_BITS.to_le_bytes());
        out.extend_from_slice(&self.learned.to_le_bytes());
        for d in self.docs {
            out.extend_from_slice(&d.to_le_bytes());
        }
        let head = self.nb_total.iter().chain(self.nb_w.iter().flatten());
        for x in head.chain(self.nb_g.iter()) {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.extend_from_slice(&(slots.len() as u32).to_le_bytes());
        for i in slots {
            out.extend_from_slice(&(i as u32).to_le_bytes());
            let s = &self.s[i];
            for x in s.w.iter().chain(std::iter::once(&s.g)) {
                out.extend_from_slice(&x.to_le_bytes());
            }
            for x in s.nb {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out
    }

    /// Reads a blob written by [`Learner::to_bytes`]: format 2, or format 1 (written before
    /// naive Bayes; its regression weights are kept and the naive Bayes part starts empty,
    /// filling from the next corrections).
    pub fn from_bytes(b: &[u8]) -> Result<Learner, ModelFormatError> {
        let mut r = Reader { b, at: 0 };
        if r.take(8)? != MAGIC {
            return Err(ModelFormatError::NotAModel);
        }
        let version = r.u32()?;
        if version != 1 && version != FORMAT_VERSION {
            return Err(ModelFormatError::Version(version));
        }
        let bits = r.u32()?;
        if bits != DIM_BITS {
            return Err(ModelFormatError::Dim(bits));
        }
        let mut l = Learner::new();
        l.learned = r.u64()?;
        if version >= 2 {
            for d in l.docs.iter_mut() {
                *d = r.u64()?;
            }
            for x in l.nb_total.iter_mut() {
                *x = count(r.f32()?)?;
            }
            for x in l.nb_w.iter_mut().flatten() {
                *x = finite(r.f32()?)?;
            }
            for x in l.nb_g.iter_mut() {
                *x = count(r.f32()?)?;
            }
        }
        let n = r.u32()? as usize;
        if n > DIM {
            return Err(ModelFormatError::Truncated);
        }
        for _ in 0..n {
            let i = r.u32()? as usize;
            if i >= DIM {
                return Err(ModelFormatError::Truncated);
            }
            let s = &mut l.s[i];
            for c in 0..3 {
                s.w[c] = finite(r.f32()?)?;
            }
            s.g = count(r.f32()?)?;
            if version >= 2 {
                for c in 0..3 {
                    let x = count(r.f32()?)?;
                    s.nb[c] = x;
                    s.nb_ln[c] = (x + NB_ALPHA).ln();
                }
                if s.nb != [0.0; 3] {
                    l.nb_slots += 1;
                }
            }
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

/// A count or a sum of squares: finite and not negative.
fn count(x: f32) -> Result<f32, ModelFormatError> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(ModelFormatError::Truncated)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelFormatError {
    #[error("not a Sunward sentiment model (export one with `sunward model export`)")]
    NotAModel,
    #[error("model format version {0} is not supported by this build (it reads versions 1 to {FORMAT_VERSION}); export the model again with this build, or retrain it with `sunward model train`")]
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
    // The addressed @handles themselves (the normalized text folds them to `@`).
    let mut i = 0;
    while let Some(at) = b[i..].iter().position(|&c| c == b'@') {
        let st = i + at + 1;
        let mut e = st;
        let mut h = FNV ^ 0x4841_4e44;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
            h ^= b[e].to_ascii_lowercase() as u32;
            h = h.wrapping_mul(PRIME);
            e += 1;
        }
        let in_word = st >= 2 && b[st - 2].is_ascii_alphanumeric(); // me@example.com
        if e > st && !in_word {
            push(out, h);
        }
        i = e;
    }
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

    /// A format 1 blob (before naive Bayes), written the way format 1 wrote it.
    fn v1_blob(l: &Learner) -> Vec<u8> {
        let used: Vec<usize> = (0..D_BIAS).filter(|&i| l.s[i].g != 0.0).collect();
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&DIM_BITS.to_le_bytes());
        out.extend_from_slice(&l.learned.to_le_bytes());
        out.extend_from_slice(&((used.len() + DENSE) as u32).to_le_bytes());
        for i in used.into_iter().chain(D_BIAS..DIM) {
            out.extend_from_slice(&(i as u32).to_le_bytes());
            for c in 0..3 {
                out.extend_from_slice(&l.s[i].w[c].to_le_bytes());
            }
            out.extend_from_slice(&l.s[i].g.to_le_bytes());
        }
        out
    }

    #[test]
    fn format_1_models_load_with_their_weights() {
        let a = Analyzer::shared();
        let mut l = Learner::new();
        for _ in 0..3 {
            l.learn(a, "Is the lounge in terminal 2 open yet?", Label::Negative);
        }
        let old = Learner::from_bytes(&v1_blob(&l)).unwrap();
        assert_eq!(old.learned, 3);
        assert_eq!(old.nb_slots, 0, "format 1 has no naive Bayes counts");
        assert!((0..DIM).all(|i| old.s[i].w == l.s[i].w && old.s[i].g == l.s[i].g));
        // The regression alone still carries the correction; learning goes on in format 2.
        let t = "is the lounge in terminal 5 open yet";
        let mut old = old;
        assert!(old.predict(a, t).probs[0] > Learner::new().predict(a, t).probs[0]);
        old.learn(a, t, Label::Negative);
        let again = Learner::from_bytes(&old.to_bytes()).unwrap();
        assert_eq!(again.predict(a, t), old.predict(a, t));
        assert_eq!(again.learned_by_label(), [1, 0, 0]);
    }

    #[test]
    fn class_counts_and_naive_bayes_survive_a_round_trip() {
        let a = Analyzer::shared();
        let mut l = Learner::new();
        let texts = [
            ("@SkyJet my bag never showed up", Label::Negative),
            ("@SkyJet what time does boarding start", Label::Neutral),
            ("@SkyJet crew were lovely today", Label::Positive),
            ("@SkyJet still no refund after 3 weeks", Label::Negative),
        ];
        for (t, g) in texts {
            l.predict_learn(a, t, g);
        }
        let l2 = Learner::from_bytes(&l.to_bytes()).unwrap();
        assert_eq!(l2.learned_by_label(), [2, 1, 1]);
        assert_eq!(l2.nb_slots, l.nb_slots);
        assert_eq!(l2.nb_total, l.nb_total);
        for t in ["@SkyJet where is my bag", "lovely crew", "boarding time?"] {
            assert_eq!(l2.predict(a, t), l.predict(a, t), "{t}");
        }
        // Negative counts or NaN in a blob are corrupt, not loaded.
        let mut bad = l.to_bytes();
        let at = 8 + 4 + 4 + 8 + 24; // first naive Bayes total
        bad[at..at + 4].copy_from_slice(&(-1.0f32).to_le_bytes());
        assert_eq!(
            Learner::from_bytes(&bad).unwrap_err(),
            ModelFormatError::Truncated
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
