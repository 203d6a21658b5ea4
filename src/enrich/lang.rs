//! Language identification (placeholder signature).
pub fn detect(_text: &str) -> &'static str {
    "und"
}
