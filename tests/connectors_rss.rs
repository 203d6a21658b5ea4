//! RSS/Atom polling against a local feed server replaying the real fixtures with ETags:
//! conditional GET (304 stores nothing), an HTML page served with 200 fails the source with a
//! clear error and loses nothing, 429 + Retry-After is honoured, and after the feed server or
//! Sunward itself is killed and restarted the stored set is exactly the expected one.

mod common;

use common::wait_for;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use sunward::api::{App, AppOptions};
use sunward::connectors::{self, Kind, NewSource, SourceSecrets};
use sunward::sources::{self, Format, Item};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Feeds,
    HtmlError,
    RateLimited,
}

#[derive(Clone)]
struct Feeds {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    mode: Arc<Mutex<Mode>>,
    /// (feed, status) of every request.
    log: Arc<Mutex<Vec<(String, u16)>>>,
}

fn etag(bytes: &[u8]) -> String {
    // FNV-1a: deterministic across server restarts, as a real server's would be.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h = (h ^ *b as u64).wrapping_mul(0x100000001b3);
    }
    format!("\"{h:016x}\"")
}

async fn feed(State(f): State<Feeds>, UrlPath(name): UrlPath<String>, h: HeaderMap) -> Response {
    let mode = *f.mode.lock().unwrap();
    let bytes = f.files.lock().unwrap().get(&name).cloned();
    let res = match (mode, bytes.as_ref()) {
        (_, None) => (StatusCode::NOT_FOUND, "no such feed").into_response(),
        (Mode::HtmlError, _) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response(),
        (Mode::RateLimited, _) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "3")],
            "slow down",
        )
            .into_response(),
        (Mode::Feeds, Some(bytes)) => {
            let tag = etag(bytes);
            if h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                (
                    StatusCode::OK,
                    [
                        (header::CONTENT_TYPE, "application/rss+xml".to_string()),
                        (header::ETAG, tag),
                        (
                            header::LAST_MODIFIED,
                            "Sat, 01 Mar 2025 10:00:00 GMT".to_string(),
                        ),
                    ],
                    bytes.clone(),
                )
                    .into_response()
            }
        }
    };
    f.log.lock().unwrap().push((name, res.status().as_u16()));
    res
}

/// Starts (or restarts, on `addr`) the feed server; returns its address and task.
async fn start_feeds(
    f: Feeds,
    addr: Option<SocketAddr>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let bind = addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap());
    let mut tries = 0;
    let listener = loop {
        match tokio::net::TcpListener::bind(bind).await {
            Ok(l) => break l,
            Err(e) if tries < 50 => {
                tries += 1;
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("rebind {bind}: {e}"),
        }
    };
    let addr = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/feeds/{name}", get(feed))
        .with_state(f);
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (addr, task)
}

fn fixtures(shared: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let dir = shared.join("fixtures/rss_atom_feed-rs");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    names.sort();
    for p in names {
        let stem = p
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace(['.', '_'], "-");
        out.push((stem, p));
    }
    out.push((
        "discourse".into(),
        shared.join("fixtures/discourse_rss/posts.rss"),
    ));
    out
}

/// The feed without its first `n` items: what it looked like before they were published.
fn without_first_items(feed: &[u8], n: usize) -> Vec<u8> {
    let text = String::from_utf8(feed.to_vec()).expect("utf-8 feed");
    let mut out = text.clone();
    for _ in 0..n {
        let start = out.find("<item>").expect("an item");
        let end = out[start..].find("</item>").expect("item end") + start + "</item>".len();
        out.replace_range(start..end, "");
    }
    out.into_bytes()
}

/// The source ids the parser makes of all feeds: the exact set that must end up stored.
fn expected_ids(files: &HashMap<String, Vec<u8>>) -> BTreeSet<String> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut ids = BTreeSet::new();
    for bytes in files.values() {
        sources::read_bytes(bytes, Format::Rss, now, &mut |loc| {
            if let Item::Mention(m) = loc.item {
                ids.insert(m.source_id);
            }
        });
    }
    ids
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

async fn stored_ids(app: &App) -> Vec<String> {
    let ms = app
        .store()
        .latest(100_000, &Default::default())
        .await
        .expect("latest");
    ms.into_iter()
        .filter(|m| m.mention.source == "rss")
        .map(|m| m.mention.source_id)
        .collect()
}

async fn health(app: &App, name: &str) -> Value {
    let v = app.dispatch("sources", Value::Null).await.expect("sources");
    v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rss_polls_conditionally_fails_clearly_and_resumes_exactly_once() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let feeds = fixtures(&shared);
    let files: HashMap<String, Vec<u8>> = feeds
        .iter()
        .map(|(n, p)| (n.clone(), std::fs::read(p).expect("fixture")))
        .collect();
    let expected = expected_ids(&files);
    assert!(
        expected.len() > 50,
        "fixtures too small: {}",
        expected.len()
    );
    // The forum feed first lacks its 5 newest posts; they appear while Sunward's feed server is down.
    let full_discourse = files["discourse"].clone();
    let mut first = files.clone();
    first.insert("discourse".into(), without_first_items(&full_discourse, 5));
    let expected_first = expected_ids(&first);
    assert_eq!(expected_first.len() + 5, expected.len());
    let f = Feeds {
        files: Arc::new(Mutex::new(first)),
        mode: Arc::new(Mutex::new(Mode::Feeds)),
        log: Arc::new(Mutex::new(Vec::new())),
    };
    let (addr, server) = start_feeds(f.clone(), None).await;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rss.db");
    sunward::store::Store::open_sqlite(&db).await.unwrap();
    for (name, _) in &feeds {
        connectors::add_source(
            &db,
            NewSource {
                kind: Kind::Rss,
                name: name.clone(),
                url: Some(format!("http://{addr}/feeds/{name}")),
                interval_ms: Some(150),
                token_env: None,
                secret_env: None,
            },
            SourceSecrets::default(),
            0,
        )
        .await
        .expect("add");
    }
    let app = start_app(&db).await;

    // First poll of each feed stores everything; later polls get 304 and store nothing.
    let all_304 = |f: &Feeds| {
        let log = f.log.lock().unwrap();
        feeds.iter().all(|(n, _)| {
            let statuses: Vec<u16> = log.iter().filter(|(x, _)| x == n).map(|e| e.1).collect();
            statuses.first() == Some(&200)
                && statuses.len() >= 3
                && statuses[1..].iter().all(|s| *s == 304)
        })
    };
    wait_for("every feed polled once with 200, then only 304", || async {
        all_304(&f)
    })
    .await;
    let ids = stored_ids(&app).await;
    assert_eq!(ids.len(), expected_first.len(), "stored once each");
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), expected_first);
    for (name, _) in &feeds {
        let h = health(&app, name).await;
        assert_eq!(h["health"]["state"], "connected", "{h}");
        let cursor: Value = serde_json::from_str(h["cursor"].as_str().expect("cursor")).unwrap();
        assert!(
            cursor["etag"].as_str().is_some_and(|e| e.starts_with('"')),
            "{cursor}"
        );
        assert_eq!(cursor["last_modified"], "Sat, 01 Mar 2025 10:00:00 GMT");
        assert!(!h.to_string().contains("token\":\""), "{h}");
    }
    let probe = feeds[0].0.clone();
    let cursor_before = health(&app, &probe).await["cursor"].clone();

    // An HTML error page with 200: failing, with a clear error; nothing lost, cursor kept.
    *f.mode.lock().unwrap() = Mode::HtmlError;
    wait_for("failing on the HTML page", || async {
        let h = health(&app, &probe).await;
        h["health"]["state"] == "failing"
            && h["health"]["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("text/html") && e.contains("not an RSS/Atom feed"))
    })
    .await;
    assert_eq!(stored_ids(&app).await.len(), expected_first.len());
    assert_eq!(health(&app, &probe).await["cursor"], cursor_before);

    // 429 with Retry-After: 3 s -> backing off at least that long.
    *f.mode.lock().unwrap() = Mode::RateLimited;
    wait_for("rate limited", || async {
        let h = health(&app, &probe).await;
        let now = chrono::Utc::now().timestamp_millis();
        let until = h["health"]["until"]
            .as_i64()
            .or(h["health"]["retry_at"].as_i64())
            .unwrap_or(0);
        h["health"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("429"))
            && until - now > 2_000
    })
    .await;
    *f.mode.lock().unwrap() = Mode::Feeds;

    // Kill the feed server: the sources back off with the connection error.
    server.abort();
    let _ = server.await;
    wait_for("backing off while the feed server is down", || async {
        let h = health(&app, &probe).await;
        matches!(
            h["health"]["state"].as_str(),
            Some("backing_off" | "failing")
        ) && h["health"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("GET http://"))
    })
    .await;

    // Restart it on the same address, the forum feed now with its 5 new posts: every source
    // recovers; unchanged feeds keep their ETags (304), the forum feed adds exactly 5.
    f.files
        .lock()
        .unwrap()
        .insert("discourse".into(), full_discourse);
    f.log.lock().unwrap().clear();
    let (_, server2) = start_feeds(f.clone(), Some(addr)).await;
    wait_for("every source connected again", || async {
        let mut ok = true;
        for (name, _) in &feeds {
            ok &= health(&app, name).await["health"]["state"] == "connected";
        }
        ok
    })
    .await;
    wait_for("the forum's new posts stored", || async {
        stored_ids(&app).await.len() == expected.len()
    })
    .await;
    assert!(f
        .log
        .lock()
        .unwrap()
        .iter()
        .all(|(n, s)| *s == 304 || (n == "discourse" && *s == 200)));
    let ids = stored_ids(&app).await;
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), expected);

    // Restart Sunward: it resumes from the committed ETags (304, nothing stored twice).
    drop(app);
    f.log.lock().unwrap().clear();
    let app = start_app(&db).await;
    wait_for("every feed polled after the restart", || async {
        let log = f.log.lock().unwrap();
        feeds.iter().all(|(n, _)| log.iter().any(|(x, _)| x == n))
    })
    .await;
    assert!(
        f.log.lock().unwrap().iter().all(|(_, s)| *s == 304),
        "{:?}",
        f.log.lock().unwrap()
    );
    let ids = stored_ids(&app).await;
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(ids.len(), expected.len());
    server2.abort();
}

/// Bad servers, side by side with a good one: each bad source reports a clear health, the good
/// one keeps working, nothing is stored from garbage, and a 10,000-item feed is stored whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_servers_fail_clearly_and_never_take_down_the_others() {
    use axum::response::Redirect;

    let big_feed = {
        let mut s =
            String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>");
        for i in 0..10_000 {
            s.push_str(&format!(
                "<item><guid>big-{i}</guid><title>item {i}</title><pubDate>Sat, 01 Mar 2025 10:00:00 GMT</pubDate></item>"
            ));
        }
        s.push_str("</channel></rss>");
        s
    };
    let router = Router::new()
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/garbage",
            get(|| async { (StatusCode::OK, "\u{1}\u{2}not xml at all {{{") }),
        )
        .route(
            "/half",
            get(|| async {
                (
                    StatusCode::OK,
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><guid>x",
                )
            }),
        )
        .route(
            "/huge",
            get(|| async {
                // 40 MiB of valid-looking bytes, streamed: refused past 32 MiB without buffering.
                let chunk = axum::body::Bytes::from(vec![b' '; 1024 * 1024]);
                let s = futures::stream::iter(
                    (0..40).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                );
                axum::body::Body::from_stream(s)
            }),
        )
        .route(
            "/storm",
            get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "120")],
                    "",
                )
            }),
        )
        .route(
            "/big",
            get(move || {
                let b = big_feed.clone();
                async move { ([(header::CONTENT_TYPE, "application/rss+xml")], b) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bad.db");
    sunward::store::Store::open_sqlite(&db).await.unwrap();
    let cases = [
        ("loop", "redirect"),
        ("garbage", "not an RSS/Atom feed"),
        ("half", "not an RSS/Atom feed"),
        ("huge", "over 32 MiB"),
        ("storm", "429"),
        ("big", ""),
    ];
    for (name, _) in cases {
        connectors::add_source(
            &db,
            NewSource {
                kind: Kind::Rss,
                name: name.into(),
                url: Some(format!("http://{addr}/{name}")),
                interval_ms: Some(200),
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
    for (name, expect) in cases {
        wait_for(&format!("{name}: {expect}"), || async {
            let h = health(&app, name).await;
            if expect.is_empty() {
                h["health"]["state"] == "connected"
            } else {
                h["health"]["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains(expect))
            }
        })
        .await;
    }
    let storm = health(&app, "storm").await;
    let until = storm["health"]["until"].as_i64().unwrap_or(0);
    assert!(
        until - chrono::Utc::now().timestamp_millis() > 100_000,
        "Retry-After: 120 honoured: {storm}"
    );
    // Only the big feed stored anything: all of it.
    assert_eq!(app.store().mention_count().await.unwrap(), 10_000);
    assert!(stored_ids(&app).await.iter().all(|i| i.starts_with("big-")));
}
