//! Streaming sources against local servers speaking the real protocols: X filtered stream
//! (chunked NDJSON with a bearer token and `\r\n` keep-alives) and Mastodon streaming
//! (Server-Sent Events). The first connection stalls mid-line (the stall detector reconnects),
//! later connections replay everything; the server is killed mid-stream and restarted; the
//! stored set is exactly the expected one.

mod common;

use common::wait_for;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use sunward::api::{App, AppOptions};
use sunward::connectors::{self, Kind, NewSource, Secret, SourceSecrets};
use sunward::sources::{self, Format, Item};

const TOKEN: &str = "x-bearer-test";

#[derive(Clone)]
struct Streamer {
    /// Wire records, each with its line end(s).
    records: Arc<Vec<String>>,
    keepalive: &'static str,
    content_type: &'static str,
    connections: Arc<AtomicUsize>,
    kill: Arc<tokio::sync::watch::Sender<bool>>,
}

async fn stream(State(s): State<Streamer>, h: HeaderMap) -> Response {
    if h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return (StatusCode::UNAUTHORIZED, "{\"title\":\"Unauthorized\"}").into_response();
    }
    let n = s.connections.fetch_add(1, Ordering::SeqCst);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let mut killed = s.kill.subscribe();
    tokio::spawn(async move {
        let half = s.records.len() / 2;
        if n == 0 {
            // First connection: half the records, half a record, then silence.
            for r in &s.records[..half] {
                let _ = tx.send(Ok(Bytes::from(r.clone()))).await;
            }
            // Cut in bytes: may split a UTF-8 character, as a dropped connection does.
            let r = s.records[half].as_bytes();
            let _ = tx.send(Ok(Bytes::copy_from_slice(&r[..r.len() / 2]))).await;
            let _ = killed.wait_for(|k| *k).await;
        } else {
            for r in s.records.iter() {
                if tx.send(Ok(Bytes::from(r.clone()))).await.is_err() {
                    return;
                }
            }
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {
                        if tx.send(Ok(Bytes::from_static(s.keepalive.as_bytes()))).await.is_err() {
                            return;
                        }
                    }
                    r = killed.changed() => {
                        if r.is_err() || *killed.borrow() {
                            break;
                        }
                    }
                }
            }
        }
        let _ = tx.send(Err(std::io::Error::other("killed"))).await;
    });
    (
        [(header::CONTENT_TYPE, s.content_type)],
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
        .into_response()
}

async fn start(s: Streamer, addr: Option<SocketAddr>) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let bind = addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap());
    let mut tries = 0;
    let listener = loop {
        match tokio::net::TcpListener::bind(bind).await {
            Ok(l) => break l,
            Err(e) => {
                tries += 1;
                assert!(tries < 50, "rebind {bind}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let addr = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/stream", axum::routing::get(stream))
        .with_state(s);
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (addr, task)
}

async fn start_app(db: &Path) -> App {
    App::start(AppOptions {
        db: Some(db.to_path_buf().into()),
        demo: false,
        config: None,
        clock: None,
        ..Default::default()
    })
    .await
    .expect("app")
}

async fn stored(app: &App, source: &str) -> Vec<String> {
    app.store()
        .latest(100_000, &Default::default())
        .await
        .expect("latest")
        .into_iter()
        .filter(|m| m.mention.source == source)
        .map(|m| m.mention.source_id)
        .collect()
}

async fn health(app: &App) -> Value {
    let v = app.dispatch("sources", Value::Null).await.expect("sources");
    v["sources"][0].clone()
}

/// Mentions minus deletes, as the parser sees the records.
fn expected(ndjson: &str, format: Format) -> BTreeSet<String> {
    let now = chrono::Utc::now().timestamp_millis();
    let (mut ids, mut deleted) = (BTreeSet::new(), BTreeSet::new());
    sources::read_bytes(ndjson.as_bytes(), format, now, &mut |loc| match loc.item {
        Item::Mention(m) => {
            ids.insert(m.source_id);
        }
        Item::Delete { source_id, .. } => {
            deleted.insert(source_id);
        }
        _ => {}
    });
    ids.difference(&deleted).cloned().collect()
}

/// Runs one streaming source through stall, kill and restart; checks exactly-once storage.
async fn exercise(kind: Kind, source: &str, s: Streamer, want: BTreeSet<String>) {
    assert!(want.len() > 10, "too few expected mentions: {}", want.len());
    let (addr, server) = start(s.clone(), None).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    sunward::store::Store::open_sqlite(&db).await.unwrap();
    connectors::add_source(
        &db,
        NewSource {
            kind,
            name: "live".into(),
            url: Some(format!("http://{addr}/stream")),
            // For streams, the interval is the stall timeout.
            interval_ms: Some(700),
            token_env: Some("TOKEN_VAR".into()),
            secret_env: None,
        },
        SourceSecrets {
            token: Some(Secret::new(TOKEN)),
            secret: None,
        },
        0,
    )
    .await
    .unwrap();
    let app = start_app(&db).await;

    // The first connection stalls mid-record: the stall detector reconnects.
    wait_for("the stall detected", || async {
        health(&app).await["health"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("stalled"))
    })
    .await;
    wait_for("everything stored after the reconnect", || async {
        stored(&app, source).await.len() == want.len()
    })
    .await;
    assert!(s.connections.load(Ordering::SeqCst) >= 2);
    wait_for("connected", || async {
        health(&app).await["health"]["state"] == "connected"
    })
    .await;
    let h = health(&app).await;
    assert!(
        h["cursor"].as_str().is_some_and(|c| c.contains("last_id")),
        "{h}"
    );
    assert!(!h.to_string().contains(TOKEN), "the token leaked: {h}");

    // Kill the server mid-stream: backing off with the broken stream as the error.
    s.kill.send_replace(true);
    server.abort();
    let _ = server.await;
    wait_for("backing off after the kill", || async {
        let h = health(&app).await;
        matches!(
            h["health"]["state"].as_str(),
            Some("backing_off" | "failing")
        )
    })
    .await;
    s.kill.send_replace(false);

    // Restart: the replay is stored once; restart Sunward too: still once.
    let before = s.connections.load(Ordering::SeqCst);
    let (_, server2) = start(s.clone(), Some(addr)).await;
    wait_for("reconnected to the restarted server", || async {
        s.connections.load(Ordering::SeqCst) > before
            && health(&app).await["health"]["state"] == "connected"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids = stored(&app, source).await;
    assert_eq!(ids.len(), want.len());
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), want);
    drop(app);
    let before = s.connections.load(Ordering::SeqCst);
    let app = start_app(&db).await;
    wait_for("Sunward reconnected", || async {
        s.connections.load(Ordering::SeqCst) > before
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids = stored(&app, source).await;
    assert_eq!(ids.len(), want.len());
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), want);
    s.kill.send_replace(true);
    server2.abort();
}

fn streamer(records: Vec<String>, keepalive: &'static str, content_type: &'static str) -> Streamer {
    Streamer {
        records: Arc::new(records),
        keepalive,
        content_type,
        connections: Arc::new(AtomicUsize::new(0)),
        kill: Arc::new(tokio::sync::watch::channel(false).0),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_filtered_stream_stalls_reconnects_and_stores_exactly_once() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let dir = shared.join("fixtures/twitter_v2_twarc-csv");
    let mut lines: Vec<String> = Vec::new();
    // Real filtered-stream lines (the file's last line is cut off: left out).
    for l in std::fs::read_to_string(dir.join("streaming_output_with_error.jsonl"))
        .unwrap()
        .lines()
    {
        if serde_json::from_str::<Value>(l).is_ok() {
            lines.push(l.to_string());
        }
    }
    // A search page's tweets as the stream sends them: one per line, author included.
    let page: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("brexit.jsonl")).unwrap()).unwrap();
    let users = page["includes"]["users"].as_array().unwrap();
    for t in page["data"].as_array().unwrap() {
        let author: Vec<&Value> = users.iter().filter(|u| u["id"] == t["author_id"]).collect();
        lines.push(
            serde_json::json!({
                "data": t,
                "includes": {"users": author},
                "matching_rules": [{"id": "1", "tag": "brexit"}]
            })
            .to_string(),
        );
    }
    let want = expected(&lines.join("\n"), Format::XV2);
    let records = lines.iter().map(|l| format!("{l}\r\n")).collect();
    exercise(
        Kind::X,
        "x",
        streamer(records, "\r\n", "application/json"),
        want,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_sse_stalls_reconnects_and_stores_exactly_once() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let mut events: Vec<Value> = Vec::new();
    let dir = shared.join("fixtures/mastodon_flodgatt");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("msg.event_txt"))
        .collect();
    names.sort();
    for p in names {
        events.push(serde_json::from_str(std::fs::read_to_string(p).unwrap().trim()).unwrap());
    }
    let statuses: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(
            shared.join("fixtures/mastodon_rtoot/get_timeline_public_anonymous.statuses.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for st in statuses {
        events.push(serde_json::json!({"event": "update", "payload": st}));
    }
    let ndjson: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    let want = expected(&ndjson.join("\n"), Format::Mastodon);
    // On the wire: `event:` + `data:` (a status as JSON, a delete as the bare id), blank line.
    let records = events
        .iter()
        .map(|e| {
            let data = match &e["payload"] {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            format!("event: {}\ndata: {data}\n\n", e["event"].as_str().unwrap())
        })
        .collect();
    exercise(
        Kind::Mastodon,
        "mastodon",
        streamer(records, ":thump\n", "text/event-stream"),
        want,
    )
    .await;
}
