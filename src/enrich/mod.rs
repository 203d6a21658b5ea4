//! Enrichment: sentiment, language, author influence and topics.
pub mod lang;
pub mod query;
pub mod sentiment;
