//! Enrichment: sentiment, language, author influence and topics.
pub mod correct;
pub mod eval;
pub mod lang;
pub mod learn;
pub mod query;
pub mod sentiment;

use crate::model::{Author, Enrichment, Mention};

/// Everything enrichment needs, built once and shared by all ingest threads.
#[derive(Debug, Default)]
pub struct Enricher {
    analyzer: sentiment::Analyzer,
    queries: query::QuerySet,
    /// The learned sentiment model, once agents corrected something (None: default engine).
    model: std::sync::RwLock<Option<learn::Learner>>,
    /// Serializes corrections (each learns from the model the previous one produced).
    pub correct_lock: tokio::sync::Mutex<()>,
}

impl Enricher {
    pub fn new(queries: query::QuerySet) -> Self {
        Enricher {
            analyzer: sentiment::Analyzer::new(),
            queries,
            model: Default::default(),
            correct_lock: Default::default(),
        }
    }

    /// The default engine.
    pub fn analyzer(&self) -> &sentiment::Analyzer {
        &self.analyzer
    }

    /// Installs the learned model (None or an empty model: the default engine alone).
    pub fn set_model(&self, model: Option<learn::Learner>) {
        let model = model.filter(|l| l.learned > 0);
        match self.model.write() {
            Ok(mut g) => *g = model,
            Err(p) => *p.into_inner() = model,
        }
    }

    /// A copy of the learned model, if one is installed.
    pub fn model_snapshot(&self) -> Option<learn::Learner> {
        match self.model.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Sentiment of a text: the blended engine once a model exists, else the default engine.
    pub fn sentiment(&self, text: &str) -> sentiment::Sentiment {
        if let Ok(g) = self.model.read() {
            if let Some(l) = g.as_ref() {
                let p = l.predict(&self.analyzer, text);
                return sentiment::Sentiment {
                    score: p.score,
                    label: p.label,
                };
            }
        }
        self.analyzer.analyze(text)
    }

    pub fn enrich(&self, m: &Mention) -> Enrichment {
        let s = self.sentiment(&m.text);
        let lang = match m.lang.as_deref().map(normalize_lang) {
            Some(l) if !l.is_empty() && l != "und" => l,
            _ => lang::detect(&m.text).to_string(),
        };
        let mut topics = m.topics.clone();
        self.queries.matches(&m.text, &mut topics);
        // Order kept (source topics first), duplicates dropped: a mention counts once per topic.
        let mut seen = std::collections::HashSet::with_capacity(topics.len());
        topics.retain(|t| seen.insert(t.clone()));
        Enrichment {
            score: s.score,
            label: s.label,
            lang,
            influence: influence(&m.author),
            topics,
        }
    }
}

/// `en-US` -> `en`, `PT` -> `pt`: sources disagree on the form, rollups should not.
fn normalize_lang(l: &str) -> String {
    l.split(['-', '_'])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Author influence 0..100 on a log scale of followers: 10 -> 17, 1k -> 50, 1M -> 100 (capped);
/// verified accounts get 10 more because networks verify prominent accounts.
pub fn influence(a: &Author) -> u8 {
    let f = a.followers.unwrap_or(0) as f64;
    let base = if f < 1.0 {
        0.0
    } else {
        (f.log10() * 50.0 / 3.0).min(100.0)
    };
    let bonus = if a.verified { 10.0 } else { 0.0 };
    (base + bonus).round().clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn influence_is_log_scaled_and_capped() {
        let a = |f: Option<u64>, v: bool| Author {
            followers: f,
            verified: v,
            ..Author::default()
        };
        assert_eq!(influence(&a(None, false)), 0);
        assert_eq!(influence(&a(Some(1000), false)), 50);
        assert_eq!(influence(&a(Some(1_000_000), false)), 100);
        assert_eq!(influence(&a(Some(1000), true)), 60);
        assert_eq!(influence(&a(Some(u64::MAX), true)), 100);
    }

    #[test]
    fn lang_is_normalized() {
        assert_eq!(normalize_lang("en-US"), "en");
        assert_eq!(normalize_lang("PT_br"), "pt");
    }
}
