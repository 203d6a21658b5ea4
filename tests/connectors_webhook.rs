//! Inbound webhooks: only correctly signed, fresh, first-seen requests store anything; every
//! refusal is a 401 that changes nothing, and the API token plays no part.

mod common;

use std::path::Path;

use serde_json::Value;
use sunward::api::{App, AppOptions};
use sunward::connectors::{self, webhook, Kind, NewSource, Secret, SourceSecrets};

const TOKEN: &str = "api-token";
const SECRET: &str = "whsec-test-1";

struct Server {
    base: String,
    app: App,
    _dir: tempfile::TempDir,
    client: reqwest::Client,
}

async fn add_webhook(db: &Path, name: &str) {
    // The store migrates the schema; the registry lives in the same file.
    sunward::store::Store::open_sqlite(db).await.expect("store");
    connectors::add_source(
        db,
        NewSource {
            kind: Kind::Webhook,
            name: name.into(),
            url: None,
            interval_ms: None,
            token_env: None,
            secret_env: Some("HOOK_SECRET".into()),
        },
        SourceSecrets {
            token: None,
            secret: Some(Secret::new(SECRET)),
        },
        1_700_000_000_000,
    )
    .await
    .expect("add webhook source");
}

async fn server() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("w.db");
    add_webhook(&db, "partner").await;
    let app = App::start(AppOptions {
        db: Some(db.into()),
        demo: false,
        config: None,
        clock: None,
        ..Default::default()
    })
    .await
    .expect("app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = sunward::http::router(app.clone(), TOKEN);
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    Server {
        base: format!("http://{addr}/api/v1"),
        app,
        _dir: dir,
        client: reqwest::Client::new(),
    }
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

fn body(ids: &[&str]) -> String {
    let t = chrono::Utc::now().timestamp_millis() - 60_000;
    ids.iter()
        .map(|id| common::ndjson_line("partner-tool", id, t, "my order never came", "forum") + "\n")
        .collect()
}

impl Server {
    async fn post(&self, name: &str, body: &str, headers: &[(&str, String)]) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/sources/{name}/events", self.base))
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let r = req.send().await.expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn mentions(&self) -> i64 {
        self.app.store().mention_count().await.expect("count")
    }

    async fn signatures(&self) -> i64 {
        let db = self._dir.path().join("w.db");
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display()))
            .await
            .expect("pool");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_signatures")
            .fetch_one(&pool)
            .await
            .expect("count");
        n
    }
}

fn signed(secret: &str, ts: i64, body: &str) -> Vec<(&'static str, String)> {
    vec![
        (webhook::TIMESTAMP_HEADER, ts.to_string()),
        (
            webhook::SIGNATURE_HEADER,
            webhook::sign(secret.as_bytes(), ts, body.as_bytes()),
        ),
    ]
}

#[tokio::test]
async fn every_refusal_is_401_and_changes_nothing_and_a_good_request_stores() {
    let s = server().await;
    let b = body(&["1", "2"]);
    let ts = now_s();

    type Case = (&'static str, Vec<(&'static str, String)>, &'static str);
    let refusals: Vec<Case> = vec![
        ("unsigned", vec![], "unsigned"),
        (
            "timestamp only",
            vec![(webhook::TIMESTAMP_HEADER, ts.to_string())],
            "unsigned",
        ),
        (
            "wrong secret",
            signed("not-the-secret", ts, &b),
            "does not match",
        ),
        (
            "signature of another body",
            signed(SECRET, ts, &body(&["3"])),
            "does not match",
        ),
        (
            "timestamp changed after signing",
            vec![
                (webhook::TIMESTAMP_HEADER, (ts + 1).to_string()),
                signed(SECRET, ts, &b)[1].clone(),
            ],
            "does not match",
        ),
        ("stale", signed(SECRET, ts - 301, &b), "stale"),
        ("from the future", signed(SECRET, ts + 400, &b), "stale"),
        (
            "the API token instead of a signature",
            vec![("authorization", format!("Bearer {TOKEN}"))],
            "unsigned",
        ),
        (
            "not hex",
            vec![
                (webhook::TIMESTAMP_HEADER, ts.to_string()),
                (webhook::SIGNATURE_HEADER, "sha256=nothex".into()),
            ],
            "hexadecimal",
        ),
    ];
    for (what, headers, expect) in refusals {
        let (status, v) = s.post("partner", &b, &headers).await;
        assert_eq!(status, 401, "{what}: {v}");
        let msg = v["error"].as_str().unwrap_or_default();
        assert!(msg.contains(expect), "{what}: {msg}");
        assert_eq!(s.mentions().await, 0, "{what} stored something");
        assert_eq!(s.signatures().await, 0, "{what} recorded a signature");
    }

    // An unknown source is a 404, even when signed.
    let (status, _) = s.post("nobody", &b, &signed(SECRET, ts, &b)).await;
    assert_eq!(status, 404);

    // A good request stores, without any API token.
    let good = signed(SECRET, ts, &b);
    let (status, v) = s.post("partner", &b, &good).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["stored"], 2, "{v}");
    assert_eq!(s.mentions().await, 2);

    // The same request again (a replay) is refused and changes nothing.
    let (status, v) = s.post("partner", &b, &good).await;
    assert_eq!(status, 401, "{v}");
    assert!(
        v["error"].as_str().unwrap_or_default().contains("replay"),
        "{v}"
    );
    assert_eq!(s.mentions().await, 2);
    assert_eq!(s.signatures().await, 1);

    // A new signed request with new content stores; one with a repeated id stores nothing twice.
    let b2 = body(&["2", "3"]);
    let (status, v) = s.post("partner", &b2, &signed(SECRET, ts + 1, &b2)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["stored"], 1, "{v}");
    assert_eq!(v["duplicates"], 1, "{v}");
    assert_eq!(s.mentions().await, 3);

    // The health shows connected, and no secret reaches the API.
    let r = s
        .client
        .get(format!("{}/sources", s.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get sources");
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.expect("text");
    assert!(!text.contains(SECRET), "the secret leaked: {text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    let src = &v["sources"][0];
    assert_eq!(src["name"], "partner");
    assert_eq!(src["health"]["state"], "connected", "{src}");
    assert_eq!(src["has_secret"], true);
    // GET /sources itself needs the token.
    let r = s
        .client
        .get(format!("{}/sources", s.base))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn a_replay_is_refused_after_a_restart_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("r.db");
    add_webhook(&db, "partner").await;
    let b = body(&["9"]);
    let (ts, sig) = {
        let h = signed(SECRET, now_s(), &b);
        (h[0].1.clone(), h[1].1.clone())
    };
    for (round, expect) in [(0, 200), (1, 401)] {
        let app = App::start(AppOptions {
            db: Some(db.clone().into()),
            demo: false,
            config: None,
            clock: None,
            ..Default::default()
        })
        .await
        .expect("app");
        let (status, v) = app
            .source_webhook("partner", Some(&ts), Some(&sig), b.clone().into_bytes())
            .await;
        assert_eq!(status, expect, "round {round}: {v}");
        assert_eq!(app.store().mention_count().await.expect("count"), 1);
    }
}
