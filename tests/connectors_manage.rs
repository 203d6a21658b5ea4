//! Managing live sources while the server runs: adding and removing through the API (the
//! operator panel), pick-up of sources added by another process (`sunward source add`),
//! `[[sources]]` in the config file, and X stream rules kept in sync on X.

mod common;

use common::wait_for;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sunward::api::{ApiError, App, AppOptions};
use sunward::auth::{Principal, Role};
use sunward::connectors::{self, Kind, NewSource, Secret, SourceSecrets};

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    addr
}

async fn app(dir: &std::path::Path, config: Option<std::path::PathBuf>) -> App {
    App::start(AppOptions {
        db: Some(dir.join("m.db").into()),
        demo: false,
        config,
        clock: None,
        wall_profile: None,
    })
    .await
    .expect("app")
}

/// A feed of our own writing, counting its requests.
#[derive(Clone, Default)]
struct Feed {
    hits: Arc<AtomicUsize>,
}

async fn feed(State(f): State<Feed>) -> Response {
    f.hits.fetch_add(1, Ordering::SeqCst);
    let items: String = (0..3)
        .map(|i| {
            format!(
                "<item><guid>post-{i}</guid><title>Skylark Air delay {i}</title>\
                 <description>Flight delayed again, {i}</description>\
                 <pubDate>Mon, 02 Nov 2026 10:0{i}:00 GMT</pubDate></item>"
            )
        })
        .collect();
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>"),
    )
        .into_response()
}

async fn feed_server() -> (String, Feed) {
    let f = Feed::default();
    let addr = serve(
        Router::new()
            .route("/feed", get(feed))
            .with_state(f.clone()),
    )
    .await;
    (format!("http://{addr}/feed"), f)
}

async fn source_rows(app: &App) -> Vec<Value> {
    let v = app
        .dispatch("sources.list", Value::Null)
        .await
        .expect("list");
    v["sources"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_added_and_removed_through_the_api_start_and_stop_without_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path(), None).await;
    let (url, f) = feed_server().await;
    let r = app
        .dispatch(
            "sources.add",
            json!({"kind": "rss", "name": "forum", "url": url, "interval": "1s", "token": "hunter2"}),
        )
        .await
        .expect("add");
    assert_eq!(r["added"], "forum");
    wait_for("the new feed's posts are stored", || async {
        app.store().mention_count().await.unwrap_or(0) == 3
    })
    .await;
    let rows = source_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["has_token"], true);
    assert!(
        !rows[0].to_string().contains("hunter2"),
        "a secret never leaves the core: {}",
        rows[0]
    );
    assert_eq!(rows[0]["health"]["state"], "connected", "{}", rows[0]);

    // Paused: no more requests. Resumed: requests again.
    app.dispatch("sources.disable", json!({"name": "forum"}))
        .await
        .expect("disable");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paused_at = f.hits.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        f.hits.load(Ordering::SeqCst),
        paused_at,
        "a disabled source does not poll"
    );
    assert_eq!(source_rows(&app).await[0]["health"]["state"], "disabled");
    app.dispatch("sources.enable", json!({"name": "forum"}))
        .await
        .expect("enable");
    wait_for("the resumed source polls", || async {
        f.hits.load(Ordering::SeqCst) > paused_at
    })
    .await;

    app.dispatch("sources.remove", json!({"name": "forum"}))
        .await
        .expect("remove");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let removed_at = f.hits.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        f.hits.load(Ordering::SeqCst),
        removed_at,
        "a removed source stops"
    );
    assert!(source_rows(&app).await.is_empty());
    assert_eq!(
        app.store().mention_count().await.expect("count"),
        3,
        "its mentions stay"
    );

    // Bad input names what is wrong; nothing is registered.
    for (args, says) in [
        (
            json!({"kind": "gopher", "name": "a", "url": url}),
            "unknown source kind",
        ),
        (
            json!({"kind": "rss", "name": "Bad Name", "url": url}),
            "bad source name",
        ),
        (
            json!({"kind": "rss", "name": "a", "url": "not a url"}),
            "bad URL",
        ),
        (json!({"kind": "rss", "name": "a"}), "needs --url"),
        (
            json!({"kind": "webhook", "name": "hook"}),
            "needs --secret-env",
        ),
        (
            json!({"kind": "rss", "name": "a", "url": url, "interval": "0s"}),
            "bad interval",
        ),
        (
            json!({"kind": "rss", "name": "a", "url": url, "colour": "red"}),
            "unknown field",
        ),
    ] {
        let e = app
            .dispatch("sources.add", args)
            .await
            .expect_err("refused");
        assert!(e.to_string().contains(says), "{e} should say {says}");
    }
    assert!(source_rows(&app).await.is_empty());
    let e = app
        .dispatch("sources.remove", json!({"name": "nope"}))
        .await
        .expect_err("unknown");
    assert!(matches!(e, ApiError::NotFound(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_manage_sources_and_agents_may_read_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path(), None).await;
    for role in [Role::Wall, Role::Agent, Role::Lead, Role::Exec, Role::Legal] {
        let who = Principal::new("someone", role);
        let e = app
            .dispatch_as(
                &who,
                "sources.add",
                json!({"kind": "rss", "name": "a", "url": "http://127.0.0.1:9/"}),
            )
            .await
            .expect_err("forbidden");
        assert!(matches!(e, ApiError::Forbidden(_)), "{role}: {e}");
        let listed = app.dispatch_as(&who, "sources.list", Value::Null).await;
        assert_eq!(listed.is_ok(), role != Role::Wall, "{role} listing sources");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_added_by_another_process_is_picked_up_by_the_running_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path(), None).await;
    let (url, _f) = feed_server().await;
    // What `sunward source add` does, from the outside of the running app.
    connectors::add_source(
        &dir.path().join("m.db"),
        NewSource {
            kind: Kind::Rss,
            name: "cli-feed".into(),
            url: Some(url),
            interval_ms: Some(1_000),
            token_env: None,
            secret_env: None,
        },
        SourceSecrets::default(),
        0,
    )
    .await
    .expect("add");
    wait_for("the running server polls the new source", || async {
        app.store().mention_count().await.unwrap_or(0) == 3
    })
    .await;
    assert!(
        connectors::remove_source(&dir.path().join("m.db"), "cli-feed")
            .await
            .expect("remove")
    );
    wait_for("the running server drops it", || async {
        source_rows(&app).await.is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_sources_are_registered_updated_and_disabled_when_they_leave_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, _f) = feed_server().await;
    std::env::set_var("SUNWARD_TEST_HOOK_SECRET", "s3cret-value");
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[[sources]]
kind = "rss"
name = "status-page"
url = "{url}"
interval = "1s"

[[sources]]
kind = "webhook"
name = "partner"
secret_env = "SUNWARD_TEST_HOOK_SECRET"
"#
        ),
    )
    .expect("write");
    {
        let app = app(dir.path(), Some(cfg.clone())).await;
        wait_for("the config's feed is polled", || async {
            app.store().mention_count().await.unwrap_or(0) == 3
        })
        .await;
        let rows = source_rows(&app).await;
        let names: Vec<&str> = rows.iter().filter_map(|r| r["name"].as_str()).collect();
        assert_eq!(names, ["partner", "status-page"]);
        assert_eq!(rows[0]["has_secret"], true);
        assert_eq!(rows[1]["options"]["origin"], "config");
        app.connectors().shutdown();
    }
    // The feed leaves the config: disabled (cursor kept), not deleted.
    std::fs::write(
        &cfg,
        "[[sources]]\nkind = \"webhook\"\nname = \"partner\"\nsecret_env = \"SUNWARD_TEST_HOOK_SECRET\"\n",
    )
    .expect("write");
    let app = app(dir.path(), Some(cfg.clone())).await;
    let rows = source_rows(&app).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["name"], "status-page");
    assert_eq!(rows[1]["enabled"], false);
    assert!(
        rows[1]["cursor"].is_string(),
        "its cursor stays: {}",
        rows[1]
    );

    // A bad [[sources]] entry stops the start with a message that names it.
    std::fs::write(&cfg, "[[sources]]\nkind = \"rss\"\nname = \"feed\"\n").expect("write");
    let e = sunward::config::Config::load(Some(&cfg)).expect_err("refused");
    assert!(
        e.to_string().contains("`feed`") && e.to_string().contains("url"),
        "{e}"
    );
    std::fs::write(&cfg, "[[sources]]\nkind = \"x\"\nname = \"x\"\nurl = \"https://api.x.com/2/tweets/search/stream\"\n").expect("write");
    let e = sunward::config::Config::load(Some(&cfg)).expect_err("refused");
    assert!(e.to_string().contains("token_env"), "{e}");
}

/// X's rules endpoint and filtered stream, with rules state.
#[derive(Clone, Default)]
struct X {
    rules: Arc<Mutex<Vec<Value>>>,
    next_id: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
}

const X_TOKEN: &str = "x-bearer";

fn authorized(h: &HeaderMap) -> bool {
    h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some("Bearer x-bearer")
}

async fn rules_get(State(x): State<X>, h: HeaderMap) -> Response {
    if !authorized(&h) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let rules = x.rules.lock().expect("lock").clone();
    Json(json!({ "data": rules, "meta": {"result_count": rules.len()} })).into_response()
}

async fn rules_post(State(x): State<X>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&h) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut rules = x.rules.lock().expect("lock");
    if let Some(ids) = body["delete"]["ids"].as_array() {
        rules.retain(|r| !ids.contains(&r["id"]));
        return Json(json!({"meta": {"summary": {"deleted": ids.len()}}})).into_response();
    }
    let mut errors = Vec::new();
    for a in body["add"].as_array().cloned().unwrap_or_default() {
        let value = a["value"].as_str().unwrap_or("").to_string();
        if value.contains("((") {
            errors.push(json!({"value": value, "title": "UnprocessableEntity", "details": ["Rules must contain balanced parentheses"]}));
            continue;
        }
        let id = (1000 + x.next_id.fetch_add(1, Ordering::SeqCst)).to_string();
        rules.push(json!({"id": id, "value": value, "tag": a["tag"]}));
    }
    (
        StatusCode::CREATED,
        Json(json!({"meta": {}, "errors": errors})),
    )
        .into_response()
}

async fn x_stream(State(x): State<X>, h: HeaderMap) -> Response {
    if !authorized(&h) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    x.connections.fetch_add(1, Ordering::SeqCst);
    let line = json!({
        "data": {"id": "1850000000000000001", "text": "@SkylarkAir my flight is cancelled", "author_id": "42",
                 "created_at": "2026-11-02T10:00:00.000Z"},
        "includes": {"users": [{"id": "42", "username": "traveler", "name": "T"}]},
        "matching_rules": [{"id": "1000", "tag": "sunward:brand"}]
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!("{line}\r\n"),
    )
        .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_stream_rules_are_kept_on_x_and_foreign_rules_are_left_alone() {
    let x = X::default();
    x.rules.lock().expect("lock").extend([
        json!({"id": "1", "value": "from:someone-else", "tag": "other-tool"}),
        json!({"id": "2", "value": "old sunward rule", "tag": "sunward:old"}),
    ]);
    let addr = serve(
        Router::new()
            .route("/2/tweets/search/stream", get(x_stream))
            .route(
                "/2/tweets/search/stream/rules",
                get(rules_get).post(rules_post),
            )
            .with_state(x.clone()),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path(), None).await;
    app.connectors()
        .add(
            NewSource {
                kind: Kind::X,
                name: "x-brand".into(),
                url: Some(format!("http://{addr}/2/tweets/search/stream")),
                interval_ms: Some(1_000),
                token_env: None,
                secret_env: None,
            },
            SourceSecrets {
                token: Some(Secret::new(X_TOKEN)),
                secret: None,
            },
            0,
        )
        .await
        .expect("add");
    // No rules set from Sunward yet: X's rules are left exactly as they are.
    wait_for("the stream connects", || async {
        x.connections.load(Ordering::SeqCst) > 0
    })
    .await;
    assert_eq!(x.rules.lock().expect("lock").len(), 2);

    app.dispatch(
        "sources.rules",
        json!({"name": "x-brand", "rules": [{"value": "@SkylarkAir -is:retweet", "tag": "brand"}, {"value": "\"Skylark Air\" lang:en"}]}),
    )
    .await
    .expect("rules");
    wait_for("the rules reach X", || async {
        let rules = x.rules.lock().expect("lock").clone();
        let mut values: Vec<String> = rules
            .iter()
            .map(|r| {
                format!(
                    "{}|{}",
                    r["value"].as_str().unwrap_or(""),
                    r["tag"].as_str().unwrap_or("")
                )
            })
            .collect();
        values.sort();
        values
            == [
                "\"Skylark Air\" lang:en|sunward",
                "@SkylarkAir -is:retweet|sunward:brand",
                "from:someone-else|other-tool",
            ]
    })
    .await;
    assert!(app.store().mention_count().await.expect("count") >= 1);

    // A rule X refuses: the source fails with X's reason, the other rules stay.
    app.dispatch(
        "sources.rules",
        json!({"name": "x-brand", "rules": [{"value": "((unbalanced"}]}),
    )
    .await
    .expect("rules");
    wait_for("the source reports X's refusal", || async {
        let rows = source_rows(&app).await;
        rows.first()
            .and_then(|r| r["health"]["last_error"].as_str())
            .is_some_and(|e| e.contains("balanced parentheses"))
    })
    .await;
    let e = app
        .dispatch(
            "sources.rules",
            json!({"name": "x-brand", "rules": [{"value": " "}]}),
        )
        .await
        .expect_err("empty rule");
    assert!(e.to_string().contains("needs a filter"), "{e}");
}
