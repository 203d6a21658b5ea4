//! Enrichment: sentiment, language, author influence and topics.
pub mod lang;
pub mod query;
pub mod sentiment;

use crate::model::{Author, Enrichment, Mention};

/// Everything enrichment needs, built once and shared by all ingest threads.
#[derive(Debug, Default)]
pub struct Enricher {
    analyzer: sentiment::Analyzer,
    queries: query::QuerySet,
}

impl Enricher {
    pub fn new(queries: query::QuerySet) -> Self {
        Enricher {
            analyzer: sentiment::Analyzer::new(),
            queries,
        }
    }

    pub fn enrich(&self, m: &Mention) -> Enrichment {
        let s = self.analyzer.analyze(&m.text);
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
