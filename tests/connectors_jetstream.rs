//! Bluesky Jetstream over a real WebSocket: a local server replays the Jetstream v1 corpus and
//! honours `cursor`; the first connection stalls (the stall detector reconnects and resumes with
//! `cursor`), the server is killed and restarted, Sunward is restarted, and the stored set is
//! exactly the corpus's posts, each once.

mod common;

use common::wait_for;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use sunward::api::{App, AppOptions};
use sunward::connectors::{self, Kind, NewSource, SourceSecrets};
use sunward::sources::{self, Format, Item};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone)]
struct Jet {
    events: Arc<Vec<(i64, String)>>,
    /// Query string of every connection, in order.
    queries: Arc<Mutex<Vec<String>>>,
    kill: Arc<tokio::sync::watch::Sender<bool>>,
}

fn cursor_of(query: &str) -> Option<i64> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("cursor="))
        .and_then(|v| v.parse().ok())
}

#[allow(clippy::result_large_err)] // the callback's type is tungstenite's
async fn serve_conn(j: Jet, tcp: tokio::net::TcpStream) {
    let mut query = String::new();
    let ws = tokio_tungstenite::accept_hdr_async(tcp, |req: &Request, res: Response| {
        query = req.uri().query().unwrap_or_default().to_string();
        Ok(res)
    })
    .await;
    let Ok(mut ws) = ws else { return };
    let n = {
        let mut q = j.queries.lock().unwrap();
        q.push(query.clone());
        q.len() - 1
    };
    let from = cursor_of(&query).unwrap_or(i64::MIN);
    let todo: Vec<&(i64, String)> = j.events.iter().filter(|(t, _)| *t >= from).collect();
    let mut killed = j.kill.subscribe();
    // The first connection sends half the events, then nothing at all.
    let take = if n == 0 { todo.len() / 2 } else { todo.len() };
    for (_, e) in &todo[..take] {
        if ws.send(Message::Text(e.clone().into())).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)), if n > 0 => {
                if ws.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
            r = killed.changed() => {
                if r.is_err() || *killed.borrow() {
                    return; // dropped: the TCP connection is cut
                }
            }
            m = ws.next() => {
                if m.is_none() {
                    return;
                }
            }
        }
    }
}

async fn start(j: Jet, addr: Option<SocketAddr>) -> (SocketAddr, tokio::task::JoinHandle<()>) {
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
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve_conn(j.clone(), tcp));
        }
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

async fn stored(app: &App) -> Vec<String> {
    app.store()
        .latest(100_000, &Default::default())
        .await
        .expect("latest")
        .into_iter()
        .filter(|m| m.mention.source == "bluesky")
        .map(|m| m.mention.source_id)
        .collect()
}

async fn health(app: &App) -> Value {
    let v = app.dispatch("sources", Value::Null).await.expect("sources");
    v["sources"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_resumes_with_cursor_and_stores_exactly_once() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let text =
        std::fs::read_to_string(shared.join("fixtures/bluesky_jetstream/corpus_expected_v1.jsonl"))
            .unwrap();
    let mut events = Vec::new();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(l).unwrap();
        events.push((v["time_us"].as_i64().unwrap(), l.to_string()));
    }
    events.sort_by_key(|e| e.0);
    let now = chrono::Utc::now().timestamp_millis();
    let (mut want, mut deleted) = (BTreeSet::new(), BTreeSet::new());
    sources::read_bytes(
        text.as_bytes(),
        Format::Jetstream,
        now,
        &mut |loc| match loc.item {
            Item::Mention(m) => {
                want.insert(m.source_id);
            }
            Item::Delete { source_id, .. } => {
                deleted.insert(source_id);
            }
            _ => {}
        },
    );
    let want: BTreeSet<String> = want.difference(&deleted).cloned().collect();
    assert!(want.len() >= 10, "{}", want.len());

    let j = Jet {
        events: Arc::new(events),
        queries: Arc::new(Mutex::new(Vec::new())),
        kill: Arc::new(tokio::sync::watch::channel(false).0),
    };
    let (addr, server) = start(j.clone(), None).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    sunward::store::Store::open_sqlite(&db).await.unwrap();
    connectors::add_source(
        &db,
        NewSource {
            kind: Kind::Jetstream,
            name: "bsky".into(),
            url: Some(format!("ws://{addr}/subscribe")),
            interval_ms: Some(700),
            token_env: None,
            secret_env: None,
        },
        SourceSecrets::default(),
        0,
    )
    .await
    .unwrap();
    let app = start_app(&db).await;

    wait_for("the stall detected", || async {
        health(&app).await["health"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("stalled"))
    })
    .await;
    wait_for("everything stored after the reconnect", || async {
        stored(&app).await.len() == want.len()
    })
    .await;
    {
        let q = j.queries.lock().unwrap();
        assert!(
            q[0].contains("wantedCollections=app.bsky.feed.post"),
            "{q:?}"
        );
        assert!(
            cursor_of(&q[0]).is_none(),
            "first connection has no cursor: {q:?}"
        );
        let c = cursor_of(&q[1]).expect("the reconnect resumes with cursor");
        let half_last = j.events[j.events.len() / 2 - 1].0;
        assert!(
            c <= half_last && c >= half_last - 2_000_000,
            "cursor {c} vs {half_last}"
        );
    }
    let h = health(&app).await;
    assert!(
        h["cursor"].as_str().is_some_and(|c| c.contains("time_us")),
        "{h}"
    );

    // Kill the server, restart it; then restart Sunward: always resumed, stored once.
    j.kill.send_replace(true);
    server.abort();
    let _ = server.await;
    wait_for("backing off after the kill", || async {
        matches!(
            health(&app).await["health"]["state"].as_str(),
            Some("backing_off" | "failing")
        )
    })
    .await;
    j.kill.send_replace(false);
    let before = j.queries.lock().unwrap().len();
    let (_, server2) = start(j.clone(), Some(addr)).await;
    wait_for("reconnected", || async {
        j.queries.lock().unwrap().len() > before
            && health(&app).await["health"]["state"] == "connected"
    })
    .await;
    drop(app);
    let before = j.queries.lock().unwrap().len();
    let app = start_app(&db).await;
    wait_for("Sunward reconnected", || async {
        j.queries.lock().unwrap().len() > before
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for q in j.queries.lock().unwrap()[1..].iter() {
        assert!(cursor_of(q).is_some(), "every reconnect resumes: {q}");
    }
    let ids = stored(&app).await;
    assert_eq!(ids.len(), want.len());
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), want);
    j.kill.send_replace(true);
    server2.abort();
}
