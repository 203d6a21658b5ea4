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

/// The database a test runs on: a SQLite file in `dir`, or — when `SUNWARD_TEST_STORE=postgres`
/// (set by `scripts/pg-test ... ` in test-all) — a fresh database in the PostgreSQL at
/// `SUNWARD_TEST_PG`. The same tests thus check both stores (the conformance suite).
pub async fn test_db(dir: &std::path::Path, file: &str) -> sunward::store::DbTarget {
    if std::env::var("SUNWARD_TEST_STORE").as_deref() == Ok("postgres") {
        sunward::store::DbTarget::Postgres(fresh_pg_db().await.expect("SUNWARD_TEST_PG"))
    } else {
        sunward::store::DbTarget::Sqlite(dir.join(file))
    }
}

/// A new empty database in the test PostgreSQL (`SUNWARD_TEST_PG`, see scripts/pg-test), as
/// a URL; `None` (with a message) when there is none.
pub async fn fresh_pg_db() -> Option<String> {
    use sqlx::Connection;
    let Ok(admin) = std::env::var("SUNWARD_TEST_PG") else {
        eprintln!("skipped: no SUNWARD_TEST_PG (run through scripts/pg-test for PostgreSQL)");
        return None;
    };
    let name = format!("t_{:016x}", rand::random::<u64>());
    let mut c = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to SUNWARD_TEST_PG");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b)
        .expect("URL with a database");
    Some(format!("{base}/{name}"))
}
