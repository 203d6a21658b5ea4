//! Sentiment engine (placeholder signature; the real engine replaces the body).
use crate::model::Label;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    pub score: f32,
    pub label: Label,
}

#[derive(Debug, Default)]
pub struct Analyzer {}

impl Analyzer {
    pub fn new() -> Self {
        Analyzer {}
    }
    pub fn analyze(&self, _text: &str) -> Sentiment {
        Sentiment { score: 0.0, label: Label::Neutral }
    }
}
