//! The HTTP transport against a real server on loopback: auth, POST mentions, SSE, views, OpenAPI.

mod common;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use sunward::api::{App, AppOptions};

const TOKEN: &str = "test-token";

struct Server {
    base: String,
    app: App,
    _dir: tempfile::TempDir,
    client: reqwest::Client,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::start(AppOptions {
        db: Some(common::test_db(dir.path(), "h.db").await),
        demo: false,
        config: None,
        clock: None,
        wall_profile: None,
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

impl Server {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("get");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    async fn post_ndjson(&self, body: String) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/mentions", self.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test]
async fn every_api_call_needs_the_token() {
    let s = server().await;
    for path in [
        "/health",
        "/volume?minutes=5",
        "/events",
        "/openapi.json",
        "/nope",
    ] {
        let r = s
            .client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 401, "{path} without token");
        let r = s
            .client
            .get(format!("{}{path}", s.base))
            .bearer_auth("wrong")
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 401, "{path} with a wrong token");
        let body: Value = r.json().await.expect("json error");
        assert!(
            body["error"].as_str().unwrap_or("").contains("token"),
            "{body}"
        );
    }
    let (status, health) = s.get("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["ok"], true);
}

#[tokio::test]
async fn posted_mentions_show_in_volume_and_stream_and_are_idempotent() {
    let s = server().await;
    let t = now();
    let body: String = (0..25)
        .map(|i| {
            common::ndjson_line(
                "e2e",
                &format!("p{i}"),
                t - i * 1000,
                "flight delayed again",
                "x",
            ) + "\n"
        })
        .collect();
    let (status, r) = s.post_ndjson(body.clone()).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (
            r["stored"].as_u64(),
            r["duplicates"].as_u64(),
            r["rejected"].as_u64()
        ),
        (Some(25), Some(0), Some(0))
    );
    let (_, r) = s.post_ndjson(body).await;
    assert_eq!(
        (r["stored"].as_u64(), r["duplicates"].as_u64()),
        (Some(0), Some(25))
    );

    let (_, v) = s.get("/volume?minutes=5").await;
    let series = v["series"].as_array().expect("series");
    assert_eq!(series.len(), 5);
    assert_eq!(
        series
            .iter()
            .map(|m| m["total"].as_i64().unwrap_or(0))
            .sum::<i64>(),
        25
    );
    assert_eq!(v["by_channel"][0]["name"], "x");

    let (_, st) = s.get("/stream?limit=3").await;
    assert_eq!(st["mentions"].as_array().map(Vec::len), Some(3));
    assert_eq!(st["mentions"][0]["text"], "flight delayed again");
}

#[tokio::test]
async fn hostile_text_comes_back_verbatim_as_json_text() {
    let s = server().await;
    let evil = "<img src=x onerror=\"alert(1)\"><script>alert(2)</script>";
    let (_, r) = s
        .post_ndjson(common::ndjson_line("e2e", "evil", now(), evil, "x") + "\n")
        .await;
    assert_eq!(r["stored"], 1);
    let (_, st) = s.get("/stream?limit=1").await;
    assert_eq!(st["mentions"][0]["text"], evil);
}

#[tokio::test]
async fn a_posted_mention_reaches_sse_within_a_second() {
    let s = server().await;
    let res = s
        .client
        .get(format!("{}/events", s.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("events");
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/event-stream"));
    let mut body = res.bytes_stream();
    // The server greets with a heartbeat: the stream is open before we post.
    let first = tokio::time::timeout(Duration::from_secs(2), body.next())
        .await
        .expect("greeting")
        .expect("chunk")
        .expect("bytes");
    assert!(String::from_utf8_lossy(&first).contains("event: heartbeat"));

    let t = Instant::now();
    let (_, r) = s
        .post_ndjson(common::ndjson_line("e2e", "sse1", now(), "hello wall", "x") + "\n")
        .await;
    assert_eq!(r["stored"], 1);
    let mut buf = String::new();
    let got = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            if buf.contains("event: mentions") && buf.contains("\"source_id\":\"sse1\"") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        got,
        Ok(true),
        "no mentions event within 1 s of the POST (waited {:?}): {buf}",
        t.elapsed()
    );
}

#[tokio::test]
async fn bad_arguments_and_unknown_commands_say_what_is_wrong() {
    let s = server().await;
    let (status, v) = s.get("/volume?minutes=0").await;
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap_or("").contains("minutes"), "{v}");
    let (status, v) = s.get("/volume?colour=red").await;
    assert_eq!(status, 400, "{v}");
    let r = s
        .client
        .post(format!("{}/rpc/launch_rockets", s.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("rpc");
    assert_eq!(r.status().as_u16(), 404);
    let r = s
        .client
        .post(format!("{}/rpc/volume", s.base))
        .bearer_auth(TOKEN)
        .body("{oops")
        .send()
        .await
        .expect("rpc");
    assert_eq!(r.status().as_u16(), 400);
    let r = s
        .client
        .post(format!("{}/rpc/volume", s.base))
        .bearer_auth(TOKEN)
        .body(r#"{"minutes":10}"#)
        .send()
        .await
        .expect("rpc");
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn charts_are_svg_and_openapi_lists_every_route() {
    let s = server().await;
    let r = s
        .client
        .get(format!("{}/charts/volume.svg?minutes=60", s.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("chart");
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.expect("svg").starts_with("<svg"));
    let (_, doc) = s.get("/openapi.json").await;
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/health",
        "/api/v1/mentions",
        "/api/v1/events",
        "/api/v1/volume",
        "/api/v1/rpc/{command}",
    ] {
        assert!(paths.contains_key(p), "{p} missing from OpenAPI");
    }
    // Every documented GET route answers (not 404) with the token.
    for (path, item) in paths {
        if item.get("get").is_some() && !path.contains('{') && path != "/api/v1/events" {
            let (status, _) = s.get(path.trim_start_matches("/api/v1")).await;
            assert_eq!(status, 200, "{path}");
        }
    }
}

#[tokio::test]
async fn issued_tokens_carry_their_role_and_a_wall_token_reads_views_only() {
    use sunward::auth::Role;
    let s = server().await;
    let store = s.app.store();
    store
        .token_add("lobby-wall", Role::Wall, "wall-secret", now())
        .await
        .expect("add");
    store
        .token_add("ana", Role::Agent, "agent-secret", now())
        .await
        .expect("add");
    let call = |path: &str, token: &str, post: bool| {
        let url = format!("{}{path}", s.base);
        let req = if post {
            s.client.post(url).body("{}")
        } else {
            s.client.get(url)
        };
        req.bearer_auth(token.to_string()).send()
    };
    for path in [
        "/volume",
        "/sentiment",
        "/stream",
        "/health",
        "/charts/volume.svg",
    ] {
        let r = call(path, "wall-secret", false).await.expect("get");
        assert_eq!(r.status().as_u16(), 200, "wall token on {path}");
    }
    for (path, post) in [
        ("/rejects", false),
        ("/sources", false),
        ("/rpc/rejects", true),
    ] {
        let r = call(path, "wall-secret", post).await.expect("call");
        assert_eq!(r.status().as_u16(), 403, "wall token on {path}");
        let v: Value = r.json().await.expect("json");
        assert!(
            v["error"].as_str().unwrap_or("").contains("wall role"),
            "{v}"
        );
    }
    let r = call("/rpc/whoami", "agent-secret", true)
        .await
        .expect("post");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["name"], "ana");
    assert_eq!(v["role"], "agent");
    let r = call("/rejects", "agent-secret", false).await.expect("get");
    assert_eq!(r.status().as_u16(), 200);
    let r = s
        .client
        .post(format!("{}/mentions", s.base))
        .bearer_auth("agent-secret")
        .body("")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 403, "agents cannot inject mentions");
    store
        .token_revoke("lobby-wall", now())
        .await
        .expect("revoke");
    let r = call("/volume", "wall-secret", false).await.expect("get");
    assert_eq!(r.status().as_u16(), 401, "a revoked token is refused");
}
