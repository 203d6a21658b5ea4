//! Reddit listing polling against a local server replaying the real PRAW listings with Reddit's
//! `before`/`after`/`limit` semantics: first poll backfills with `after`, new entries are read
//! with `before` in pages, the server is killed mid-way and restarted, Sunward is restarted, and
//! the stored set is exactly every entry of the fixtures, each once.

mod common;

use common::wait_for;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum::Router;
use serde_json::{json, Value};
use sunward::api::{App, AppOptions};
use sunward::connectors::{self, Kind, NewSource, SourceSecrets};
use sunward::sources::{self, Format, Item};

/// Entries per page the test asks for (in the source URL), to force paging.
const LIMIT: usize = 15;
/// Entries hidden at first: "posted" while Sunward runs.
const LATER: usize = 40;

#[derive(Clone)]
struct Subs {
    /// Full listings, newest first.
    lists: Arc<Mutex<HashMap<String, Vec<Value>>>>,
    /// How many of the newest entries are not posted yet.
    hidden: Arc<Mutex<usize>>,
    requests: Arc<Mutex<Vec<String>>>,
    /// Requests left to answer; the others hang until the server is killed.
    budget: Arc<Mutex<Option<usize>>>,
    /// Set when the server is killed: hanging requests end with a cut-off body.
    kill: Arc<tokio::sync::watch::Sender<bool>>,
}

async fn listing(
    State(s): State<Subs>,
    UrlPath(sub): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let hang = match &mut *s.budget.lock().unwrap() {
        Some(0) => true,
        Some(n) => {
            *n -= 1;
            false
        }
        None => false,
    };
    if hang {
        let mut killed = s.kill.subscribe();
        let _ = killed.wait_for(|k| *k).await;
        // Half a JSON document, then the connection drops.
        let cut = futures::stream::iter(vec![
            Ok(axum::body::Bytes::from_static(
                b"{\"kind\":\"Listing\",\"data\":{\"chil",
            )),
            Err(std::io::Error::other("killed")),
        ]);
        return axum::body::Body::from_stream(cut).into_response();
    }
    s.requests
        .lock()
        .unwrap()
        .push(format!("{sub}?{:?}", q.get("before").or(q.get("after"))));
    let hidden = *s.hidden.lock().unwrap();
    let full = s
        .lists
        .lock()
        .unwrap()
        .get(&sub)
        .cloned()
        .unwrap_or_default();
    let list = &full[hidden.min(full.len())..];
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(25);
    let pos = |name: &str| list.iter().position(|c| c["data"]["name"] == name);
    let page: &[Value] = if let Some(b) = q.get("before") {
        match pos(b) {
            Some(i) => &list[i.saturating_sub(limit)..i],
            None => &[],
        }
    } else if let Some(a) = q.get("after") {
        match pos(a) {
            Some(i) => &list[(i + 1).min(list.len())..(i + 1 + limit).min(list.len())],
            None => &[],
        }
    } else {
        &list[..limit.min(list.len())]
    };
    let name = |v: Option<&Value>| v.map(|c| c["data"]["name"].clone()).unwrap_or(Value::Null);
    Json(json!({
        "kind": "Listing",
        "data": {
            "children": page,
            "before": if q.contains_key("before") { name(page.first()) } else { Value::Null },
            "after": name(page.last()),
            "dist": page.len(),
        }
    }))
    .into_response()
}

async fn start_subs(
    s: Subs,
    addr: Option<SocketAddr>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
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
        .route("/r/{sub}", axum::routing::get(listing))
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

async fn stored(app: &App) -> Vec<String> {
    app.store()
        .latest(100_000, &Default::default())
        .await
        .expect("latest")
        .into_iter()
        .filter(|m| m.mention.source == "reddit")
        .map(|m| m.mention.source_id)
        .collect()
}

async fn states(app: &App) -> Vec<Value> {
    let v = app.dispatch("sources", Value::Null).await.expect("sources");
    v["sources"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reddit_pages_back_and_forward_and_resumes_exactly_once() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let dir_in = shared.join("fixtures/reddit_praw");
    let mut lists = HashMap::new();
    let mut expected = BTreeSet::new();
    let mut expected_first = BTreeSet::new();
    let now = chrono::Utc::now().timestamp_millis();
    let mut files: Vec<_> = std::fs::read_dir(&dir_in)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".listing1.json"))
        .collect();
    files.sort();
    for (i, p) in files.iter().enumerate() {
        let bytes = std::fs::read(p).unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let children = v["data"]["children"].as_array().unwrap().clone();
        assert!(children.len() > LATER + 2 * LIMIT);
        for (j, c) in children.iter().enumerate() {
            let one = json!({"kind": "Listing", "data": {"children": [c]}}).to_string();
            sources::read_bytes(one.as_bytes(), Format::Reddit, now, &mut |loc| {
                if let Item::Mention(m) = loc.item {
                    if j >= LATER {
                        expected_first.insert(m.source_id.clone());
                    }
                    expected.insert(m.source_id);
                }
            });
        }
        lists.insert(format!("sub{i}"), children);
    }
    let subs = Subs {
        lists: Arc::new(Mutex::new(lists)),
        hidden: Arc::new(Mutex::new(LATER)),
        requests: Arc::new(Mutex::new(Vec::new())),
        budget: Arc::new(Mutex::new(None)),
        kill: Arc::new(tokio::sync::watch::channel(false).0),
    };
    let (addr, server) = start_subs(subs.clone(), None).await;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reddit.db");
    sunward::store::Store::open_sqlite(&db).await.unwrap();
    for i in 0..files.len() {
        connectors::add_source(
            &db,
            NewSource {
                kind: Kind::Reddit,
                name: format!("sub{i}"),
                url: Some(format!("http://{addr}/r/sub{i}?limit={LIMIT}")),
                interval_ms: Some(150),
                token_env: None,
                secret_env: None,
            },
            SourceSecrets::default(),
            0,
        )
        .await
        .unwrap();
    }
    let app = start_app(&db).await;

    // First poll: the newest page, then back with `after` through all visible history.
    wait_for("backfill of every visible entry", || async {
        stored(&app).await.len() == expected_first.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let ids = stored(&app).await;
    assert_eq!(ids.len(), expected_first.len());
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), expected_first);
    for s in states(&app).await {
        assert_eq!(s["health"]["state"], "connected", "{s}");
        assert!(s["cursor"].as_str().unwrap().contains("newest"), "{s}");
    }

    // New entries are posted; the server answers one more page per source, then hangs
    // mid-request and is killed.
    let before = stored(&app).await.len();
    *subs.budget.lock().unwrap() = Some(files.len());
    *subs.hidden.lock().unwrap() = 0;
    wait_for("some new entries stored", || async {
        stored(&app).await.len() > before && *subs.budget.lock().unwrap() == Some(0)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.abort();
    let _ = server.await;
    subs.kill.send_replace(true);
    wait_for("every source backing off", || async {
        states(&app).await.iter().all(|s| {
            matches!(
                s["health"]["state"].as_str(),
                Some("backing_off" | "failing")
            )
        })
    })
    .await;
    assert!(stored(&app).await.len() < expected.len(), "killed too late");

    *subs.budget.lock().unwrap() = None;
    subs.kill.send_replace(false);
    // Restart the server: the sources page forward with `before` and catch up exactly.
    let (_, server2) = start_subs(subs.clone(), Some(addr)).await;
    wait_for("everything stored", || async {
        stored(&app).await.len() == expected.len()
    })
    .await;
    wait_for("every source connected", || async {
        states(&app)
            .await
            .iter()
            .all(|s| s["health"]["state"] == "connected")
    })
    .await;
    assert_eq!(
        stored(&app).await.into_iter().collect::<BTreeSet<_>>(),
        expected
    );

    // Restart Sunward: it asks only for what is newer than its cursor, and stores nothing twice.
    drop(app);
    subs.requests.lock().unwrap().clear();
    let app = start_app(&db).await;
    wait_for("every source polled after the restart", || async {
        subs.requests.lock().unwrap().len() >= 2 * files.len()
    })
    .await;
    {
        // Each source's first request resumes with before=cursor; a request without one only
        // follows an empty answer (the check that the cursor's entry still exists).
        let reqs = subs.requests.lock().unwrap();
        for i in 0..files.len() {
            let sub = format!("sub{i}?");
            let first = reqs.iter().find(|r| r.starts_with(&sub)).expect("polled");
            assert!(
                first.contains("Some(\"t"),
                "a restarted source must resume with before=cursor: {reqs:?}"
            );
        }
    }
    let ids = stored(&app).await;
    assert_eq!(ids.len(), expected.len());
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), expected);

    // The cursor's entry is deleted on Reddit and a new post arrives: the source notices that
    // `before=` can no longer answer, reads the newest page and goes on.
    {
        let mut lists = subs.lists.lock().unwrap();
        let list = lists.get_mut("sub0").unwrap();
        list.remove(0);
        let mut fresh = list[3].clone();
        fresh["data"]["name"] = json!("t3_zzfresh");
        fresh["data"]["id"] = json!("zzfresh");
        fresh["data"]["permalink"] = json!("/r/test/comments/zzfresh/x/");
        list.insert(0, fresh);
    }
    wait_for("the new post after the cursor vanished", || async {
        stored(&app).await.iter().any(|i| i == "t3_zzfresh")
    })
    .await;
    assert_eq!(stored(&app).await.len(), expected.len() + 1);
    server2.abort();
}
