//! Detection as mentions are ingested: a historical file yields its alerts; re-ingest does not
//! duplicate them; the lifecycle records who and when; a stuck webhook never blocks.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sunward::alerts::{pipeline, Alerts, AlertsConfig, LifecycleError};
use sunward::clock::Clock;
use sunward::detect::{Kind, Severity, Signal};
use sunward::enrich::Enricher;
use sunward::events::{Bus, Event};
use sunward::ingest::Ingestor;
use sunward::store::{AlertQuery, Store};

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const WORDS: [&str; 24] = [
    "gate", "seat", "lounge", "boarding", "snack", "wifi", "window", "aisle", "crew", "pilot",
    "landing", "terminal", "coffee", "blanket", "movie", "miles", "points", "queue", "hotel",
    "taxi", "weather", "clouds", "view", "family",
];

fn text(n: u64) -> String {
    // Distinct word combinations: every post is its own story.
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut w = Vec::new();
    for _ in 0..9 {
        w.push(WORDS[(x % 24) as usize]);
        x = x.rotate_left(7).wrapping_mul(31) ^ n;
    }
    format!("{} #{n}", w.join(" "))
}

fn line(id: u64, t: i64, txt: &str) -> String {
    let at = chrono::DateTime::from_timestamp_millis(t)
        .unwrap()
        .to_rfc3339();
    serde_json::json!({"source": "hist", "id": id.to_string(), "created_at": at, "text": txt,
        "channel": "x", "topics": ["delays"]})
    .to_string()
}

#[tokio::test]
async fn a_historical_file_yields_the_alerts_it_would_have_live() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hist.ndjson");
    let mut f = std::fs::File::create(&file).unwrap();
    let start = 1_700_000_000_000i64 / HOUR * HOUR;
    let burst = start + 5 * 24 * HOUR + 14 * HOUR;
    let mut id = 0u64;
    // Six days at 60 posts an hour; on day 5 at 14:00, 3x for 30 minutes.
    for m in 0..6 * 24 * 60 {
        let t = start + m * MIN;
        let extra = if (burst..burst + 30 * MIN).contains(&t) {
            2
        } else {
            0
        };
        for k in 0..(1 + extra) {
            id += 1;
            writeln!(f, "{}", line(id, t + k * 1000, &text(id))).unwrap();
        }
    }
    drop(f);
    let store = Store::open_sqlite(&dir.path().join("a.db")).await.unwrap();
    let bus = Bus::default();
    let mut rx = bus.subscribe();
    let (feed, _) = pipeline::start_for(
        &store,
        Some(bus.clone()),
        Clock::System,
        AlertsConfig::builtin(),
    )
    .await
    .unwrap();
    let ing = Ingestor::new(
        store.clone(),
        Arc::new(Enricher::new(Default::default())),
        None,
        Clock::System,
    )
    .with_detect(feed.clone());
    ing.ingest_path(&file, None, &mut |_| {}).await.unwrap();
    let stats = feed.flush(None).await.unwrap();
    assert_eq!(stats.mentions, 6 * 24 * 60 + 60);
    let alerts = store.alerts_list(&AlertQuery::default()).await.unwrap();
    let spike = alerts
        .iter()
        .find(|a| {
            a.topic.as_deref() == Some("delays") && a.kinds.iter().any(|k| k == "volume_spike")
        })
        .unwrap_or_else(|| panic!("no volume alert on delays: {alerts:#?}"));
    assert!(
        spike.fired_at >= burst && spike.fired_at <= burst + 10 * MIN,
        "fired {} min after: {alerts:#?}",
        (spike.fired_at - burst) / MIN
    );
    assert!(!spike.drill);
    // Event time years before the clock: history, listed but no takeover (backfill).
    assert!(spike.backfill);
    let topic_alerts = alerts
        .iter()
        .filter(|a| a.topic.as_deref() == Some("delays"))
        .count();
    assert_eq!(topic_alerts, 1, "one event, one alert: {alerts:#?}");
    // Panels hear about it as history; walls (which follow `alert`) do not.
    let (mut listed, mut takeover) = (false, false);
    while let Ok(e) = rx.try_recv() {
        match e {
            Event::AlertBackfill(n) => listed |= n.id == spike.id,
            Event::Alert(n) => takeover |= n.id == spike.id,
            _ => {}
        }
    }
    assert!(listed && !takeover);

    // Re-ingesting the same file stores nothing and detects nothing new.
    let before = alerts.len();
    ing.ingest_path(&file, None, &mut |_| {}).await.unwrap();
    feed.flush(None).await.unwrap();
    assert_eq!(
        store
            .alerts_list(&AlertQuery::default())
            .await
            .unwrap()
            .len(),
        before
    );
}

fn signal(at: i64, sev: Severity) -> Signal {
    Signal {
        kind: Kind::CrisisTerms,
        topic: Some("app".into()),
        channel: None,
        at,
        severity: sev,
        drill: false,
        title: "Crisis terms on topic app: data breach".into(),
        evidence: serde_json::json!({"stories": 4}),
        stories: vec![],
        author: None,
        story_ids: vec![],
    }
}

#[tokio::test]
async fn lifecycle_records_who_and_when() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("a.db")).await.unwrap();
    let clock = Clock::manual(1_000_000);
    let alerts = Alerts::start(store.clone(), None, clock.clone(), AlertsConfig::builtin())
        .await
        .unwrap();
    let opened = alerts
        .apply(vec![signal(5 * MIN, Severity::Crisis)])
        .await
        .unwrap();
    let id = opened[0].id;
    assert_eq!(opened[0].state, "open");
    // Merging: the same topic a minute later grows the alert.
    alerts
        .apply(vec![signal(6 * MIN, Severity::Crisis)])
        .await
        .unwrap();
    assert_eq!(
        store
            .alerts_list(&AlertQuery::default())
            .await
            .unwrap()
            .len(),
        1
    );
    // The chain: on-call lead at once, legal after 10 minutes (crisis) -> escalated.
    clock.set_ms(1_000_000 + 11 * MIN);
    alerts.escalate_due().await.unwrap();
    let a = store.alert_get(id).await.unwrap().unwrap();
    assert_eq!(a.state, "escalated");
    assert_eq!(a.escalation_step, 2);
    let a = alerts.ack(id, "dana").await.unwrap();
    assert_eq!(
        (a.state.as_str(), a.acked_by.as_deref()),
        ("acknowledged", Some("dana"))
    );
    assert!(matches!(
        alerts.ack(id, "lee").await,
        Err(LifecycleError::NotAllowed { .. })
    ));
    // Acknowledged: escalation stops.
    clock.set_ms(1_000_000 + 40 * MIN);
    assert_eq!(alerts.escalate_due().await.unwrap(), 0);
    let a = alerts
        .resolve(id, "dana", "statement posted")
        .await
        .unwrap();
    assert_eq!(a.state, "resolved");
    assert!(matches!(
        alerts.resolve(id, "x", "").await,
        Err(LifecycleError::NotAllowed { .. })
    ));
    assert!(matches!(
        alerts.ack(999, "x").await,
        Err(LifecycleError::NotFound(999))
    ));
    let log: Vec<String> = store
        .alert_log(id)
        .await
        .unwrap()
        .into_iter()
        .map(|l| format!("{}:{}", l.action, l.who))
        .collect();
    assert_eq!(
        log,
        [
            "opened:detector",
            "notified:on-call lead",
            "notified:legal",
            "acknowledged:dana",
            "resolved:dana"
        ]
    );
}

#[tokio::test]
async fn a_stuck_webhook_receiver_never_blocks() {
    // A receiver that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("a.db")).await.unwrap();
    let cfg = AlertsConfig::parse(
        &format!("[[webhooks]]\nname = \"slack\"\nurl = \"http://{addr}/hook\"\nmin_severity = \"watch\"\n"),
        std::path::Path::new("test"),
    )
    .unwrap();
    let sender =
        sunward::alerts::webhook::Sender::start(store.clone(), Clock::System, cfg.webhooks.clone());
    let n = sunward::events::AlertNotice {
        id: 1,
        kind: "volume_spike".into(),
        severity: "crisis".into(),
        state: "open".into(),
        title: "t".into(),
        topic: None,
        channel: None,
        fired_at: 0,
        drill: false,
    };
    let t = Instant::now();
    for _ in 0..(sunward::alerts::webhook::QUEUE + 50) {
        sender.send(None, &n, "");
    }
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "sending waited {:?}",
        t.elapsed()
    );
    // The overflow is dead-lettered, not dropped.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.webhook_dead_count().await.unwrap() >= 40);
}

/// A crisis alert still open when the app restarts takes the walls over again at start, not
/// only when the next alert event arrives.
#[tokio::test]
async fn an_alert_open_before_a_restart_takes_the_walls_over_again() {
    use sunward::store::NewAlert;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("restart.db");
    let opts = || sunward::api::AppOptions {
        db: Some(db.clone().into()),
        ..sunward::api::AppOptions::default()
    };
    {
        let app = sunward::api::App::start(opts()).await.expect("app");
        let (ev, st) = (serde_json::json!({}), serde_json::json!([]));
        app.store()
            .alert_insert(
                &NewAlert {
                    merge_key: "test",
                    kind: "crisis_terms",
                    kinds: &["crisis_terms".to_string()],
                    topic: Some("delays"),
                    channel: None,
                    severity: "crisis",
                    title: "Crisis terms on delays",
                    fired_at: 1_700_000_000_000,
                    evidence: &ev,
                    stories: &st,
                    drill: false,
                    drill_run: None,
                    site: "default",
                    backfill: false,
                },
                1_700_000_000_000,
            )
            .await
            .expect("insert");
        app.connectors().shutdown();
    }
    let app = sunward::api::App::start(opts()).await.expect("restart");
    let v = app
        .dispatch("view.screen", serde_json::json!({"screen": 0}))
        .await
        .expect("screen");
    assert_eq!(v["takeover"]["title"], "Crisis terms on delays", "{v}");
}

/// Alerts found while backfilling history are listed (and can be acknowledged) but never take
/// the walls over, escalate or page anyone; live ones do, and a backfilled alert that grows into
/// the present becomes live.
#[tokio::test]
async fn backfilled_alerts_are_listed_but_never_take_the_walls_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = sunward::api::App::start(sunward::api::AppOptions {
        db: Some(dir.path().join("b.db").into()),
        ..sunward::api::AppOptions::default()
    })
    .await
    .expect("app");
    let mut rx = app.subscribe();
    let now = app.clock().now_ms();
    let old = app
        .alerts()
        .apply(vec![signal(now - 6 * HOUR, Severity::Crisis)])
        .await
        .expect("apply");
    assert!(old[0].backfill && old[0].state == "open");
    // No escalation step was taken for it.
    assert_eq!(old[0].escalation_step, 0);
    let screen = |app: sunward::api::App| async move {
        app.dispatch("view.screen", serde_json::json!({"screen": 0}))
            .await
            .expect("screen")
    };
    assert!(screen(app.clone()).await["takeover"].is_null());
    let list = app
        .dispatch("alerts.list", serde_json::json!({}))
        .await
        .expect("list");
    assert_eq!(list["alerts"][0]["backfill"], true);
    let board = app
        .dispatch("view.alerts", serde_json::json!({}))
        .await
        .expect("board");
    assert_eq!(board["counts"]["backfill"], 1);
    let mut kinds = Vec::new();
    while let Ok(e) = rx.try_recv() {
        kinds.push(e.name());
    }
    assert!(
        kinds.contains(&"alert_backfill") && !kinds.contains(&"alert"),
        "{kinds:?}"
    );

    // The same event still going on now: it grows into the present (signals every 30 minutes,
    // within the cooldown) and goes live.
    for k in 1..=12 {
        app.alerts()
            .apply(vec![signal(
                now - 6 * HOUR + k * 30 * MIN,
                Severity::Crisis,
            )])
            .await
            .expect("apply");
    }
    assert_eq!(
        app.store()
            .alerts_list(&AlertQuery::default())
            .await
            .expect("list")
            .len(),
        1,
        "one event, one alert"
    );
    let a = app
        .store()
        .alert_get(old[0].id)
        .await
        .expect("get")
        .expect("row");
    assert!(!a.backfill, "{a:?}");
    assert!(a.escalation_step >= 1);
    let v = screen(app.clone()).await;
    assert_eq!(v["takeover"]["id"], old[0].id, "{v}");
    app.connectors().shutdown();
}
