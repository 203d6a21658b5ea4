//! `sunward ingest` as a user runs it: real fixture files of every format, re-ingest, bad input,
//! exit codes and the `--json` report on the last line of stdout.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn sunward(args: &[&str], db: &Path, files: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sunward"))
        .args(args)
        .arg("--db")
        .arg(db)
        .args(files)
        .output()
        .expect("run sunward")
}

fn last_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_else(|| {
        panic!(
            "no stdout; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(last).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {last}"))
}

#[test]
fn every_real_fixture_ingests_and_reingest_stores_nothing() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let files: Vec<(&str, &str)> = vec![
        (
            "fixtures/twitter_v2_twarc-csv/streaming_output_with_error.jsonl",
            "x-v2",
        ),
        ("fixtures/twitter_v2_twarc-csv/brexit.jsonl", "x-v2"),
        ("twcs/twcs_head_monalisapatra26.csv", "twcs"),
        ("twcs/sample_kaggle_naman-tiwari.csv", "twcs"),
        (
            "fixtures/mastodon_rtoot/get_timeline_public_anonymous.statuses.json",
            "mastodon",
        ),
        (
            "fixtures/bluesky_jetstream/corpus_expected_v1.jsonl",
            "jetstream",
        ),
        (
            "fixtures/reddit_praw/TestSubredditListings.test_comments.listing1.json",
            "reddit",
        ),
        ("fixtures/rss_atom_feed-rs/rss_2.0_cloudflare.xml", "rss"),
        ("fixtures/rss_atom_feed-rs/atom_example_reddit.xml", "rss"),
        ("fixtures/discourse_rss/posts.rss", "rss"),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("fixtures.db");
    for (file, format) in files {
        let path = vec![data.join(file)];
        let first = sunward(&["ingest", "--json"], &db, &path);
        assert!(
            first.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&first.stderr)
        );
        let r = last_json(&first);
        assert!(
            r["stored"].as_u64().unwrap_or(0) > 0,
            "{file} ({format}) stored nothing: {r}"
        );
        let accounted = ["stored", "duplicates", "rejected", "deleted", "skipped"]
            .iter()
            .map(|k| r[k].as_u64().unwrap_or(0))
            .sum::<u64>();
        assert_eq!(
            accounted,
            r["read"].as_u64().unwrap_or(0),
            "{file}: every record is accounted for: {r}"
        );

        // The detected format is the expected one: forcing it gives the same result.
        let again = sunward(&["ingest", "--json", "--format", format], &db, &path);
        let r2 = last_json(&again);
        assert_eq!(r2["stored"], 0, "{file}: re-ingest stored again: {r2}");
        assert_eq!(r2["duplicates"], r["stored"], "{file}: {r2}");
    }
}

#[test]
fn bad_input_is_counted_with_reasons_and_the_rest_lands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let good = |id: &str| common::ndjson_line("bad", id, now - 60_000, "a normal post", "x");
    let future = common::ndjson_line("bad", "future", now + 86_400_000, "from tomorrow", "x");
    let old = common::ndjson_line("bad", "old", 1_000_000_000_000, "from 2001", "x");
    let long = common::ndjson_line("bad", "long", now - 1000, &"a".repeat(70 * 1024), "x");
    let mut bytes = Vec::new();
    for line in [
        good("g1"),
        "{\"source\":\"bad\",\"id\":\"broken\"".to_string(),
        "{\"source\":\"bad\",\"id\":\"no-text\",\"created_at\":\"2026-01-01T00:00:00Z\"}"
            .to_string(),
        future,
        old,
        long,
        good("g1"),
        good("g2"),
    ] {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(b"{\"source\":\"bad\",\"id\":\"utf8\",\"text\":\"\xff\xfe\"}\n");
    bytes.extend_from_slice(good("g3").as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(b"{\"source\":\"bad\",\"id\":\"cut"); // truncated last line
    let file = dir.path().join("bad.ndjson");
    std::fs::write(&file, &bytes).expect("write");
    let db = dir.path().join("bad.db");

    let out = sunward(
        &["ingest", "--json", "--format", "ndjson"],
        &db,
        std::slice::from_ref(&file),
    );
    assert!(
        out.status.success(),
        "a completed run exits 0 even with rejects"
    );
    let r = last_json(&out);
    assert_eq!(r["read"], 11, "{r}");
    assert_eq!(r["stored"], 3, "{r}");
    assert_eq!(r["duplicates"], 1, "{r}");
    assert_eq!(r["rejected"], 7, "{r}");
    let reasons = r["reasons"].as_object().expect("reasons");
    for reason in [
        "malformed_json",
        "missing_field",
        "future_timestamp",
        "too_old",
        "text_too_long",
        "invalid_utf8",
        "truncated_line",
    ] {
        assert!(reasons.contains_key(reason), "{reason} missing from {r}");
    }

    let listed = Command::new(env!("CARGO_BIN_EXE_sunward"))
        .args(["rejects", "--json", "--db"])
        .arg(&db)
        .output()
        .expect("rejects");
    let v: Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(v["total"], 7);
    let mut lines: Vec<i64> = v["rejects"]
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["line"].as_i64().unwrap_or(0))
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![2, 3, 4, 5, 6, 9, 11],
        "each reject keeps its line number"
    );
}

#[test]
fn empty_and_binary_files_are_reported_not_crashed_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.ndjson");
    std::fs::write(&empty, b"").expect("write");
    let binary = dir.path().join("blob.ndjson");
    std::fs::write(
        &binary,
        (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .expect("write");
    let db = dir.path().join("e.db");
    for (file, reason) in [(empty, "empty_input"), (binary, "binary_input")] {
        let out = sunward(&["ingest", "--json", "--format", "ndjson"], &db, &[file]);
        assert!(out.status.success());
        let r = last_json(&out);
        assert_eq!(r["stored"], 0);
        assert!(r["reasons"].get(reason).is_some(), "{r}");
    }
}

#[test]
fn unusable_input_exits_nonzero_with_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("u.db");
    let out = sunward(&["ingest"], &db, &[dir.path().join("missing.jsonl")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));

    let readme = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let out = sunward(
        &["ingest", "--format", "yaml"],
        &db,
        std::slice::from_ref(&readme),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("valid formats"));

    let out = sunward(&["ingest"], &db, &[readme]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format"));
}
