//! Learning from agents in the app: `sentiment.correct` relabels the mention, the model learns
//! at once (the Enricher uses it for new mentions), corrections are stored with who/when,
//! every 5th is held back, the model survives a restart, and reset/import are admin-only.
use serde_json::json;
use sunward::api::{App, AppOptions};
use sunward::auth::{Principal, Role};

async fn app(dir: &std::path::Path) -> App {
    App::start(AppOptions {
        db: Some(dir.join("s.db").into()),
        demo: false,
        config: None,
        clock: None,
        wall_profile: None,
    })
    .await
    .expect("app")
}

fn line(id: usize, text: &str) -> String {
    json!({"source": "t", "id": format!("m{id}"), "created_at": "2026-01-05T10:00:00Z",
           "text": text, "channel": "x"})
    .to_string()
        + "\n"
}

#[tokio::test]
async fn corrections_learn_persist_and_are_measured() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let mut body = String::new();
    for i in 0..10 {
        body.push_str(&line(i, &format!("is the lounge in terminal {i} open yet")));
    }
    app.ingest_ndjson(body.into_bytes()).await.unwrap();
    let agent = Principal::new("ana", Role::Agent);
    let wall = Principal::new("wall1", Role::Wall);
    let stream = app
        .dispatch_as(&agent, "stream", json!({"limit": 20}))
        .await
        .unwrap();
    let ms = stream["mentions"].as_array().unwrap().clone();
    assert_eq!(ms.len(), 10);
    assert!(ms.iter().all(|m| m["label"] == "neutral"));
    // Walls may not correct.
    assert!(app
        .dispatch_as(
            &wall,
            "sentiment.correct",
            json!({"mention_id": ms[0]["id"], "label": "negative"})
        )
        .await
        .is_err());
    for m in &ms[..5] {
        let r = app
            .dispatch_as(
                &agent,
                "sentiment.correct",
                json!({"mention_id": m["id"], "label": "negative"}),
            )
            .await
            .unwrap();
        assert_eq!(r["label"], "negative");
    }
    // Bad label, unknown mention.
    assert!(app
        .dispatch_as(
            &agent,
            "sentiment.correct",
            json!({"mention_id": ms[0]["id"], "label": "angry"})
        )
        .await
        .is_err());
    assert!(app
        .dispatch_as(
            &agent,
            "sentiment.correct",
            json!({"mention_id": 999999, "label": "negative"})
        )
        .await
        .is_err());
    let stats = app
        .dispatch_as(&agent, "sentiment.model", json!({}))
        .await
        .unwrap();
    assert_eq!(stats["corrections"], 5);
    assert_eq!(stats["held_back"], 1, "{stats}");
    assert_eq!(stats["learned"], 4);
    assert_eq!(stats["recent"][0]["by"], "ana");
    assert!(stats["model_accuracy"].is_number() && stats["engine_accuracy"].is_number());
    // The corrected mentions are relabeled; a new similar mention gets the learned label.
    let stream = app
        .dispatch_as(&agent, "stream", json!({"limit": 20}))
        .await
        .unwrap();
    let neg = stream["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["label"] == "negative")
        .count();
    assert_eq!(neg, 5);
    app.ingest_ndjson(line(100, "is the lounge in terminal 42 open yet").into_bytes())
        .await
        .unwrap();
    let stream = app
        .dispatch_as(&agent, "stream", json!({"limit": 1}))
        .await
        .unwrap();
    assert_eq!(stream["mentions"][0]["source_id"], "m100");
    assert_eq!(stream["mentions"][0]["label"], "negative", "{stream}");
    // Reset and import are admin-only.
    assert!(app
        .dispatch_as(&agent, "sentiment.reset", json!({}))
        .await
        .is_err());
    let admin = Principal::new("root", Role::Admin);
    let exported = app
        .dispatch_as(&admin, "sentiment.export", json!({}))
        .await
        .unwrap();
    drop(app);
    // The model survives a restart.
    let app = app_reopen(dir.path()).await;
    let stats = app
        .dispatch_as(&admin, "sentiment.model", json!({}))
        .await
        .unwrap();
    assert_eq!(stats["learned"], 4);
    let r = app
        .dispatch_as(&admin, "sentiment.reset", json!({}))
        .await
        .unwrap();
    assert_eq!(r["learned"], 0);
    let stats = app
        .dispatch_as(&admin, "sentiment.model", json!({}))
        .await
        .unwrap();
    assert_eq!(stats["learned"], 0);
    let r = app
        .dispatch_as(
            &admin,
            "sentiment.import",
            json!({"model_hex": exported["model_hex"]}),
        )
        .await
        .unwrap();
    assert_eq!(r["learned"], 4);
    assert!(app
        .dispatch_as(&admin, "sentiment.import", json!({"model_hex": "00ff"}))
        .await
        .is_err());
}

async fn app_reopen(dir: &std::path::Path) -> App {
    app(dir).await
}
