//! Two centers on one PostgreSQL: two real `sunward serve` processes (Austin and Singapore)
//! share a database. Austin's lead creates and signs a handoff; Singapore's event stream shows
//! it within 2 s (LISTEN/NOTIFY, src/site_relay.rs); Singapore's lead acknowledges it; the
//! cases are then owned by Singapore's agents with SLA clocks unchanged, seen from both sites.
//! Needs `SUNWARD_TEST_PG` (run through scripts/pg-test); skipped, saying so, without it.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

const TOKEN: &str = "two-sites-admin-token";

struct Site {
    child: Child,
    base: String,
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn serve(db: &str, site: &str) -> Site {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_sunward"))
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("SUNWARD_TOKEN", TOKEN)
        .env("SUNWARD_SITE", site)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start sunward serve");
    let s = Site {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        let ok = http
            .get(format!("{}/api/v1/health", s.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        if ok {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{site} did not come up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn rpc(site: &Site, token: &str, cmd: &str, args: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/rpc/{cmd}", site.base))
        .bearer_auth(token)
        .json(&args)
        .send()
        .await
        .expect("rpc");
    let status = r.status();
    let body: Value = r.json().await.expect("json reply");
    assert!(status.is_success(), "{cmd}: {status} {body}");
    body
}

/// A token for `name` with `role`, issued with the CLI against the shared database.
fn token(db: &str, name: &str, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sunward"))
        .args(["token", "add", name, "--role", role, "--db", db])
        .output()
        .expect("sunward token add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Every SSE event of `site` as (name, data, when received).
async fn events(site: &Site) -> mpsc::UnboundedReceiver<(String, Value, Instant)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/events?access_token={TOKEN}", site.base))
        .send()
        .await
        .expect("event stream");
    assert!(resp.status().is_success(), "events: {}", resp.status());
    tokio::spawn(async move {
        let mut body = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                let data = serde_json::from_str(&data).unwrap_or(Value::Null);
                if tx.send((name, data, Instant::now())).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Waits up to `within` for a `handoff` event about brief `id` with `action`.
async fn handoff_event(
    rx: &mut mpsc::UnboundedReceiver<(String, Value, Instant)>,
    id: i64,
    action: &str,
    within: Duration,
) -> Option<Instant> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let next = tokio::time::timeout_at(deadline, rx.recv()).await.ok()??;
        let (name, data, at) = next;
        if name == "handoff" && data["id"] == id && data["what"] == action {
            return Some(at);
        }
    }
}

fn sites() -> Value {
    // Shifts round the clock on every day, so the test does not depend on when it runs.
    let all = json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
    json!({"sites": [
        {"name": "austin", "tz": "America/Chicago", "next": "singapore",
         "shift": [{"name": "am", "days": all, "start": "00:00", "end": "12:00", "lead": "maria"},
                   {"name": "pm", "days": all, "start": "12:00", "end": "00:00", "lead": "maria"}]},
        {"name": "singapore", "tz": "Asia/Singapore", "next": "austin",
         "shift": [{"name": "am", "days": all, "start": "00:00", "end": "12:00", "lead": "wei"},
                   {"name": "pm", "days": all, "start": "12:00", "end": "00:00", "lead": "wei"}]},
    ]})
}

fn clocks(c: &Value) -> Value {
    json!([
        c["first_due"],
        c["next_due"],
        c["resolution_due"],
        c["warn_at"],
        c["opened_at"]
    ])
}

async fn cases(site: &Site) -> Vec<Value> {
    rpc(site, TOKEN, "cases.list", json!({ "limit": 1000 })).await["cases"]
        .as_array()
        .expect("cases")
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn austin_hands_off_to_singapore_on_one_postgres() {
    let Some(db) = common::fresh_pg_db().await else {
        return;
    };
    let austin = serve(&db, "austin").await;
    let singapore = serve(&db, "singapore").await;

    rpc(&austin, TOKEN, "sites.put", sites()).await;
    for (name, role, site) in [
        ("maria", "lead", "austin"),
        ("al", "agent", "austin"),
        ("wei", "lead", "singapore"),
        ("sia", "agent", "singapore"),
    ] {
        // Leads are away (they do not take cases); Singapore's agent starts away too, so
        // Austin's agent owns every case before the handoff.
        let presence = if name == "al" { "online" } else { "away" };
        rpc(
            &austin,
            TOKEN,
            "agents.add",
            json!({"name": name, "role": role, "site": site,
            "skills": [], "capacity": 20, "presence": presence}),
        )
        .await;
    }
    // Customers write in through Austin's API.
    let now = chrono::Utc::now().timestamp_millis();
    let lines: Vec<String> = (0..3)
        .map(|i| {
            json!({"source": "test", "id": format!("p{i}"), "channel": "x",
                   "created_at": chrono::DateTime::from_timestamp_millis(now - 60_000 + i)
                       .expect("time").to_rfc3339(),
                   "text": "My suitcase is lost, please help", "author": {"handle": format!("cust{i}")},
                   "inbound": true})
            .to_string()
        })
        .collect();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/mentions", austin.base))
        .bearer_auth(TOKEN)
        .body(lines.join("\n"))
        .send()
        .await
        .expect("post mentions");
    assert!(r.status().is_success());

    // Singapore sees Austin's cases in the shared database, owned by Austin's agent.
    let start = Instant::now();
    let before = loop {
        let cs = cases(&singapore).await;
        if cs.len() == 3 && cs.iter().all(|c| c["owner"] == "al") {
            break cs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "cases never reached al: {cs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    rpc(
        &singapore,
        TOKEN,
        "agents.presence",
        json!({"name": "sia", "presence": "online"}),
    )
    .await;

    let maria = token(&db, "maria", "lead");
    let wei = token(&db, "wei", "lead");
    let mut sg_events = events(&singapore).await;
    let mut au_events = events(&austin).await;

    let b = rpc(
        &austin,
        &maria,
        "handoff.create",
        json!({"from": "austin", "to": "singapore",
        "notes": "Lost bags after the storm; watch #lost-bags"}),
    )
    .await["brief"]
        .clone();
    let id = b["id"].as_i64().expect("brief id");
    assert_eq!(
        b["content"]["cases"].as_array().map(Vec::len),
        Some(3),
        "{b}"
    );

    let signed_at = Instant::now();
    let signed = rpc(&austin, &maria, "handoff.sign", json!({ "id": id })).await;
    assert_eq!(signed["brief"]["status"], "signed", "{signed}");
    let seen = handoff_event(&mut sg_events, id, "signed", Duration::from_secs(2))
        .await
        .expect("Singapore's event stream shows the signed handoff within 2 s");
    eprintln!(
        "signed brief reached Singapore's event stream after {} ms",
        seen.duration_since(signed_at).as_millis()
    );

    // Singapore lists it as pending and acknowledges it.
    let pending = rpc(&singapore, &wei, "handoff.list", json!({ "pending": true })).await;
    assert!(
        pending["briefs"]
            .as_array()
            .expect("briefs")
            .iter()
            .any(|x| x["id"] == id),
        "{pending}"
    );
    let acked_at = Instant::now();
    let acked = rpc(&singapore, &wei, "handoff.ack", json!({ "id": id })).await;
    assert_eq!(acked["brief"]["status"], "acknowledged", "{acked}");
    let back = handoff_event(&mut au_events, id, "acknowledged", Duration::from_secs(2))
        .await
        .expect("Austin's event stream shows the acknowledgement within 2 s");
    eprintln!(
        "acknowledgement reached Austin's event stream after {} ms",
        back.duration_since(acked_at).as_millis()
    );

    // The cases are Singapore's now, with the same SLA clocks, as both sites see them.
    for site in [&austin, &singapore] {
        let after = cases(site).await;
        assert_eq!(after.len(), 3);
        for c in &after {
            assert_eq!(c["owner"], "sia", "{c}");
            let was = before
                .iter()
                .find(|b| b["id"] == c["id"])
                .expect("same case");
            assert_eq!(clocks(c), clocks(was), "SLA clocks changed at handoff: {c}");
        }
    }
}
