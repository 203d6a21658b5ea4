//! Evaluation of the sentiment engines on labeled sets: loaders for the public sets under
//! `../shared/data` (read at run time, never shipped), metrics, and the prequential
//! (predict-then-learn) run of the learning engine. Used by `sunward bench sentiment-eval`
//! and `tests/sentiment_eval.rs`.
use std::path::Path;

use serde::Serialize;

use super::learn::{class, Learner};
use super::sentiment::Analyzer;
use crate::model::Label;

pub type Rows = Vec<(String, Label)>;

/// Accuracy, macro-F1, per-class recall and the confusion matrix (gold x predicted, in the
/// order negative, neutral, positive).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Metrics {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub recall: [f64; 3],
    pub confusion: [[usize; 3]; 3],
}

impl Metrics {
    pub fn add(&mut self, gold: Label, got: Label) {
        self.confusion[class(gold)][class(got)] += 1;
    }

    /// Computes the figures from the confusion matrix.
    pub fn finish(mut self) -> Metrics {
        let c = self.confusion;
        let n: usize = c.iter().flatten().sum();
        let correct: usize = (0..3).map(|i| c[i][i]).sum();
        let mut f1_sum = 0.0;
        for (k, row) in c.iter().enumerate() {
            let tp = row[k] as f64;
            let gold: usize = row.iter().sum();
            let pred: usize = (0..3).map(|g| c[g][k]).sum();
            let r = if gold > 0 { tp / gold as f64 } else { 0.0 };
            let p = if pred > 0 { tp / pred as f64 } else { 0.0 };
            self.recall[k] = r;
            f1_sum += if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
        }
        self.n = n;
        self.accuracy = correct as f64 / n.max(1) as f64;
        self.macro_f1 = f1_sum / 3.0;
        self
    }

    pub fn line(&self) -> String {
        format!(
            "n={:<6} acc={:.3} macroF1={:.3} recall neg={:.3} neu={:.3} pos={:.3}",
            self.n, self.accuracy, self.macro_f1, self.recall[0], self.recall[1], self.recall[2]
        )
    }
}

/// The engine alone on every row.
pub fn evaluate(analyzer: &Analyzer, rows: &[(String, Label)]) -> Metrics {
    let mut m = Metrics::default();
    for (text, gold) in rows {
        m.add(*gold, analyzer.analyze(text).label);
    }
    m.finish()
}

/// Predict-then-learn over the rows in order; the metrics count only rows after the first
/// `warmup` (the model has learned from those by then, and keeps learning).
pub fn prequential(analyzer: &Analyzer, rows: &[(String, Label)], warmup: usize) -> Metrics {
    let mut l = Learner::new();
    let mut m = Metrics::default();
    for (i, (text, gold)) in rows.iter().enumerate() {
        let p = l.predict_learn(analyzer, text, *gold);
        if i >= warmup {
            m.add(*gold, p.label);
        }
    }
    m.finish()
}

/// The rows resampled to the class mix of customer-care traffic: 63% negative, 21% neutral,
/// 16% positive (the published mix of a well-known airline care set; brand mentions skew
/// negative). Every negative row is kept and neutral/positive rows are thinned evenly, in
/// file order, so the stream stays deterministic. A proxy for an imbalanced care stream
/// where macro-F1 hinges on the rare classes; the texts are still general tweets.
pub fn care_mix(rows: &[(String, Label)]) -> Rows {
    let mut n = [0usize; 3];
    for (_, l) in rows {
        n[class(*l)] += 1;
    }
    let neg = n[0] as f64;
    let rate = [
        1.0,
        (neg * 21.0 / 63.0 / n[1].max(1) as f64).min(1.0),
        (neg * 16.0 / 63.0 / n[2].max(1) as f64).min(1.0),
    ];
    let mut acc = [0.0f64; 3];
    rows.iter()
        .filter(|(_, l)| {
            let c = class(*l);
            acc[c] += rate[c];
            if acc[c] >= 1.0 - 1e-9 {
                acc[c] -= 1.0;
                true
            } else {
                false
            }
        })
        .cloned()
        .collect()
}

/// tweeteval sentiment `split` (`test`, `val`): text and label files, 0/1/2 = neg/neu/pos.
pub fn tweeteval(data: &Path, split: &str) -> Option<Rows> {
    let dir = data.join("tweeteval_sentiment");
    let text = std::fs::read_to_string(dir.join(format!("{split}_text.txt"))).ok()?;
    let labels = std::fs::read_to_string(dir.join(format!("{split}_labels.txt"))).ok()?;
    let rows: Rows = text
        .lines()
        .zip(labels.lines())
        .filter_map(|(t, l)| {
            let label = match l.trim() {
                "0" => Label::Negative,
                "1" => Label::Neutral,
                "2" => Label::Positive,
                _ => return None,
            };
            Some((t.to_string(), label))
        })
        .collect();
    Some(rows)
}

/// sentiment140 manual test set (latin-1 CSV, label 0/2/4, text in column 6).
pub fn sentiment140(data: &Path) -> Option<Rows> {
    let bytes = std::fs::read(data.join("sentiment140/testdata.manual.2009.06.14.csv")).ok()?;
    // Latin-1: every byte is the code point of the same value.
    let text: String = bytes.iter().map(|&b| b as char).collect();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for rec in rdr.records().flatten() {
        let label = match rec.get(0) {
            Some("0") => Label::Negative,
            Some("2") => Label::Neutral,
            Some("4") => Label::Positive,
            _ => continue,
        };
        if let Some(t) = rec.get(5) {
            rows.push((t.to_string(), label));
        }
    }
    Some(rows)
}

/// tweet_sentiment_extraction Tweets.csv (textID,text,selected_text,sentiment), file order.
pub fn tweet_sentiment_extraction(data: &Path) -> Option<Rows> {
    let path = data.join("tweet_sentiment_extraction/Tweets.csv");
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .ok()?;
    let mut rows = Vec::new();
    for rec in rdr.records().flatten() {
        if let (Some(t), Some(l)) = (rec.get(1), rec.get(3).and_then(Label::parse)) {
            if !t.trim().is_empty() {
                rows.push((t.to_string(), l));
            }
        }
    }
    Some(rows)
}

/// Our hand labels for inbound tweets of the Customer Support on Twitter sample
/// (`assets/eval_twcs_care_labels.csv`: tweet_id, label, set). Only labels ship; the texts are
/// read from `../shared/data`. Sets: `airline` (421 tweets to airlines, labeled before any
/// rule was tuned on them), `brands` (130 tweets to all brands, tuned on) and `spotify` (600
/// random tweets to @SpotifyCares, from its own file; 150 of them were looked at for rules).
const TWCS_LABELS: &str = include_str!("../../assets/eval_twcs_care_labels.csv");

/// All hand-labeled care tweets (airline, brands, spotify) as one stream, mixed in a fixed
/// pseudo-random order (by a hash of the tweet id): the learning engine's care benchmark.
pub fn twcs_care_all(data: &Path) -> Option<Rows> {
    let mut keyed: Vec<(u32, String, Label)> = Vec::new();
    for set in ["airline", "brands", "spotify"] {
        for (id, text, label) in labeled_tweets(data, set)? {
            let key = (id as u32).wrapping_mul(2_654_435_761).rotate_left(13);
            keyed.push((key, text, label));
        }
    }
    keyed.sort_by_key(|k| k.0);
    Some(keyed.into_iter().map(|(_, t, l)| (t, l)).collect())
}

/// The hand-labeled care tweets of `set` (`airline`, `brands`, `spotify`), in tweet-id order.
pub fn twcs_care(data: &Path, set: &str) -> Option<Rows> {
    let rows = labeled_tweets(data, set)?;
    Some(rows.into_iter().map(|(_, t, l)| (t, l)).collect())
}

/// (tweet id, text, label) of `set`; `None` when the data or the set is missing.
fn labeled_tweets(data: &Path, set: &str) -> Option<Vec<(u64, String, Label)>> {
    let path = data.join(if set == "spotify" {
        "twcs/spotifycares_support_requests.csv"
    } else {
        "twcs/twcs_head_monalisapatra26.csv"
    });
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .ok()?;
    let headers = rdr.headers().ok()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (id_col, text_col) = (col("tweet_id")?, col("text")?);
    let mut texts = std::collections::HashMap::new();
    for rec in rdr.records().flatten() {
        if let (Some(id), Some(t)) = (rec.get(id_col), rec.get(text_col)) {
            texts.insert(id.to_string(), t.to_string());
        }
    }
    let rows: Vec<(u64, String, Label)> = TWCS_LABELS
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            let (id, label, s) = (f.next()?, f.next()?, f.next()?);
            if s != set {
                return None;
            }
            Some((
                id.parse().ok()?,
                texts.get(id)?.clone(),
                Label::parse(label)?,
            ))
        })
        .collect();
    (!rows.is_empty()).then_some(rows)
}

/// Labeled texts of our own authoring (`tests/fixtures/care_tweets.ndjson` format):
/// NDJSON `{"text":..., "label":...}`.
pub fn ndjson_rows(text: &str) -> Rows {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let t = v.get("text")?.as_str()?.to_string();
            let l = Label::parse(v.get("label")?.as_str()?)?;
            Some((t, l))
        })
        .collect()
}
