//! `kill -9` in the middle of `sunward ingest` loses nothing that was committed, and re-running
//! the same file completes it without duplicates, with rollups that agree with the mentions.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sunward::store::Store;

const LINES: usize = 200_000;

#[tokio::test(flavor = "multi_thread")]
async fn kill_nine_mid_ingest_then_rerun_completes_without_duplicates() {
    let bin = env!("CARGO_BIN_EXE_sunward");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("big.ndjson");
    let db = dir.path().join("crash.db");
    let st = Command::new(bin)
        .args(["generate", "--count", &LINES.to_string(), "--out"])
        .arg(&file)
        .status()
        .expect("generate");
    assert!(st.success());

    let mut child = Command::new(bin)
        .arg("ingest")
        .arg("--db")
        .arg(&db)
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ingest");
    // Wait until some batches are committed, then kill without warning.
    let start = Instant::now();
    let mut seen = 0;
    while start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if db.exists() {
            if let Ok(store) = Store::open_sqlite(&db).await {
                seen = store.mention_count().await.unwrap_or(0);
                if seen > 0 {
                    break;
                }
            }
        }
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert!(seen > 0, "nothing was committed before the kill");

    let store = Store::open_sqlite(&db).await.expect("reopen after kill");
    let after_kill = store.mention_count().await.expect("count");
    assert!(
        after_kill >= seen,
        "committed rows vanished: saw {seen}, now {after_kill}"
    );
    assert!(
        (after_kill as usize) < LINES,
        "the kill came too late to test anything ({after_kill} rows)"
    );

    let out = Command::new(bin)
        .args(["ingest", "--json", "--db"])
        .arg(&db)
        .arg(&file)
        .output()
        .expect("rerun");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().expect("a JSON line");
    let report: serde_json::Value = serde_json::from_str(last).expect("json report");
    assert_eq!(report["read"].as_u64(), Some(LINES as u64));
    assert_eq!(
        report["duplicates"].as_u64(),
        Some(after_kill as u64),
        "{report}"
    );
    assert_eq!(
        report["stored"].as_u64(),
        Some((LINES as i64 - after_kill) as u64),
        "{report}"
    );

    let total = store.mention_count().await.expect("count");
    assert_eq!(total as usize, LINES);
    // The rollup must agree with the rows: no batch was half-applied.
    assert_eq!(rollup_sum(&db).await, total);
}

/// All-topics rollup rows summed over every minute.
async fn rollup_sum(db: &std::path::Path) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display()))
        .await
        .expect("connect");
    let row: (i64,) =
        sqlx::query_as("SELECT COALESCE(SUM(total), 0) FROM rollup_minute WHERE topic = ''")
            .fetch_one(&mut c)
            .await
            .expect("sum");
    row.0
}
