//! Listening queries (placeholder signature).
#[derive(Debug, Clone, Default)]
pub struct QuerySet {}

impl QuerySet {
    pub fn matches(&self, _text: &str, _out: &mut Vec<String>) {}
}
