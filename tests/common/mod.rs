#![allow(dead_code)]
//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// `../shared/data` beside the checkout, or `None` (with a message) where it is absent.
pub fn shared_data() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data"));
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/data not found (CI has it beside the checkout)");
        None
    }
}

pub fn ndjson_line(
    source: &str,
    id: &str,
    created_at_ms: i64,
    text: &str,
    channel: &str,
) -> String {
    let at = chrono::DateTime::from_timestamp_millis(created_at_ms)
        .expect("valid test time")
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    serde_json::json!({"source": source, "id": id, "created_at": at, "text": text, "channel": channel}).to_string()
}

/// Polls `f` until it is true; fails the test with `what` after 30 s.
pub async fn wait_for<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !f().await {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
