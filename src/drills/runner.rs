//! Runs a drill: minute by minute of drill time, generated background plus the scenario's
//! injected posts go through the real ingest (source `drill:<run>`), detection, alerts and
//! escalation; the drill clock runs `speed` times faster than the wall clock and can be paused
//! and stopped. The detector's baseline is first taught `history_days` of generated history
//! (not stored), so volume detectors are live from the first minute.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::sync::watch;

use super::{Scenario, Step};
use crate::alerts::{pipeline, AlertsConfig};
use crate::clock::Clock;
use crate::detect::{Detector, Input};
use crate::enrich::Enricher;
use crate::events::Bus;
use crate::ingest::Ingestor;
use crate::model::{Author, Mention};
use crate::store::{AlertQuery, Store};

const MIN: i64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Control {
    Running,
    Paused,
    Stopped,
}

/// Running drills by run key, for `drills.pause|resume|stop`.
fn registry() -> &'static Mutex<HashMap<String, watch::Sender<Control>>> {
    static R: OnceLock<Mutex<HashMap<String, watch::Sender<Control>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Sets a running drill's control; false if no such drill runs.
pub fn control(run: &str, c: Control) -> bool {
    registry()
        .lock()
        .ok()
        .and_then(|r| r.get(run).map(|tx| tx.send(c).is_ok()))
        .unwrap_or(false)
}

pub fn running() -> Vec<String> {
    registry()
        .lock()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

/// One point of the drill's timeline, in drill time (ms).
#[derive(Debug, Clone, Serialize)]
pub struct Minute {
    pub t: i64,
    pub background: u32,
    pub injected: u32,
}

/// What the runner observed; the report is built from it.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub run: String,
    pub name: String,
    pub file: String,
    pub speed: f64,
    pub start: i64,
    pub end: i64,
    pub stopped_early: bool,
    pub first_post: Option<i64>,
    pub minutes: Vec<Minute>,
    /// (drill time, wall time) at each tick, to place wall-clock actions (acks, replies).
    pub clock_map: Vec<(i64, i64)>,
    /// Drill time the runner first saw each alert acknowledged.
    pub acked_seen: HashMap<i64, i64>,
    pub started_wall: i64,
}

pub struct Options {
    pub speed: f64,
    pub bus: Option<Bus>,
    pub out_dir: PathBuf,
    pub alerts: AlertsConfig,
    pub enricher: Arc<Enricher>,
}

const WORDS: [&str; 48] = [
    "flight", "gate", "seat", "upgrade", "lounge", "boarding", "snack", "wifi", "window", "aisle",
    "crew", "pilot", "landing", "takeoff", "terminal", "coffee", "blanket", "movie", "legroom",
    "miles", "points", "status", "checkin", "queue", "passport", "visa", "hotel", "taxi",
    "weather", "sunset", "clouds", "view", "friendly", "smooth", "bumpy", "quiet", "noisy",
    "early", "late", "on", "time", "today", "tomorrow", "morning", "evening", "trip", "holiday",
    "family",
];

const DETAILS: [&str; 16] = [
    "been waiting since noon with two kids",
    "nobody at the desk can tell us anything",
    "phone line just hangs up after an hour",
    "the app shows nothing useful at all",
    "my connection to Lisbon is gone too",
    "they told us to check the website",
    "no food vouchers and the shops are closed",
    "this is the third time this month",
    "hotel list ran out an hour ago",
    "elderly parents stuck here with me",
    "chat support says to call instead",
    "my bags are checked through already",
    "the crew left and the gate is empty",
    "need this sorted before Monday",
    "not one email from the airline",
    "I travel every week with you",
];

/// A background post of random everyday words: distinct stories, never near-duplicates.
fn background_text(rng: &mut StdRng, topic: &str) -> String {
    let mut w: Vec<&str> = (0..10)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect();
    w.push(topic);
    w.join(" ")
}

/// The daily curve of the generated background (quiet nights, busy afternoons), mean about 1.
fn daily(t: i64) -> f64 {
    let h = (t.rem_euclid(24 * 3_600_000)) as f64 / 3_600_000.0;
    1.0 + 0.6 * ((h - 9.0) / 24.0 * std::f64::consts::TAU).sin()
}

/// Where a drill's control value is, for panels: None when no such drill runs here.
pub fn control_of(run: &str) -> Option<Control> {
    registry()
        .lock()
        .ok()
        .and_then(|r| r.get(run).map(|tx| *tx.borrow()))
}

/// A drill that is registered (pausable, stoppable) and recorded in `drill_runs`, not yet run.
pub struct Started {
    pub run: String,
    pub wall: i64,
    rx: watch::Receiver<Control>,
}

/// A run key: the scenario's first words and the start time, e.g.
/// `mass-flight-cancellations-on-20261122T141101` (plus `-2`, ... when started twice a second).
fn run_key(scenario: &Scenario) -> String {
    let slug: String = scenario
        .name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .take(4)
        .collect::<Vec<_>>()
        .join("-");
    let base = format!("{slug}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"));
    let taken = |k: &str| {
        registry()
            .lock()
            .map(|r| r.contains_key(k))
            .unwrap_or(false)
    };
    let mut key = base.clone();
    let mut n = 2;
    while taken(&key) {
        key = format!("{base}-{n}");
        n += 1;
    }
    key
}

/// Registers a drill and records it as running; [`run_started`] then runs it. Split so that an
/// API call can answer with the run key at once and the drill can be paused right after.
pub async fn begin(store: &Store, scenario: &Scenario, file: &str) -> anyhow::Result<Started> {
    let wall = Clock::System.now_ms();
    let run = run_key(scenario);
    let (tx, rx) = watch::channel(Control::Running);
    if let Ok(mut r) = registry().lock() {
        r.insert(run.clone(), tx);
    }
    if let Err(e) = store.drill_start(&run, &scenario.name, file, wall).await {
        if let Ok(mut r) = registry().lock() {
            r.remove(&run);
        }
        return Err(e.into());
    }
    Ok(Started { run, wall, rx })
}

pub async fn run(
    store: Store,
    scenario: Scenario,
    steps: Vec<Step>,
    file: &str,
    opts: Options,
) -> anyhow::Result<(Outcome, PathBuf)> {
    let started = begin(&store, &scenario, file).await?;
    run_started(started, store, scenario, steps, file, opts).await
}

/// Runs a drill [`begin`] registered, writes its report and records how it ended.
pub async fn run_started(
    started: Started,
    store: Store,
    scenario: Scenario,
    steps: Vec<Step>,
    file: &str,
    opts: Options,
) -> anyhow::Result<(Outcome, PathBuf)> {
    let Started { run, wall, mut rx } = started;
    let start = wall.div_euclid(MIN) * MIN;
    let source = format!("drill:{run}");
    let result = run_inner(
        &store, &scenario, &steps, file, &opts, &run, &source, start, wall, &mut rx,
    )
    .await;
    if let Ok(mut r) = registry().lock() {
        r.remove(&run);
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let _ = store
                .drill_update(
                    &run,
                    "failed",
                    Some(Clock::System.now_ms()),
                    None,
                    &serde_json::json!({ "error": e.to_string() }),
                )
                .await;
            return Err(e);
        }
    };
    let (path, summary) = super::report::write(&store, &scenario, &outcome, &opts.out_dir).await?;
    let state = if outcome.stopped_early {
        "stopped"
    } else {
        "finished"
    };
    store
        .drill_update(
            &run,
            state,
            Some(Clock::System.now_ms()),
            Some(&path.display().to_string()),
            &summary,
        )
        .await?;
    Ok((outcome, path))
}

#[allow(clippy::too_many_arguments)]
async fn run_inner(
    store: &Store,
    sc: &Scenario,
    steps: &[Step],
    file: &str,
    opts: &Options,
    run: &str,
    source: &str,
    start: i64,
    wall: i64,
    rx: &mut watch::Receiver<Control>,
) -> anyhow::Result<Outcome> {
    let clock = Clock::manual(start);
    let mut rng = StdRng::seed_from_u64(start as u64);
    // Teach the baseline the generated history (real, not stored: it is only the detector's).
    let mut det = Detector::new(opts.alerts.detect.clone(), &opts.alerts.terms);
    let hist_from = start - sc.background.history_days.max(0) * 24 * 3_600_000;
    let mut t = hist_from;
    while t < start {
        let mut batch = Vec::new();
        for (topic, per_hour) in &sc.background.per_hour {
            let lambda = per_hour * daily(t) / 60.0;
            for _ in 0..poisson(&mut rng, lambda) {
                batch.push(Input {
                    created_at: t + rng.gen_range(0..MIN),
                    channel: "x".into(),
                    topics: vec![topic.clone()],
                    negative: rng.gen::<f64>() < 0.2,
                    followers: 100,
                    handle: None,
                    text: background_text(&mut rng, topic),
                    url: None,
                    drill: false,
                });
            }
        }
        det.push(batch);
        t += MIN;
    }
    det.flush_until(start);
    let alerts = crate::alerts::Alerts::start(
        store.clone(),
        opts.bus.clone(),
        clock.clone(),
        opts.alerts.clone(),
    )
    .await?;
    alerts.set_drill_run(Some(run.to_string()));
    alerts.set_drill_only(true);
    let feed = pipeline::spawn(det, alerts.clone());
    let ingestor = Ingestor::new(
        store.clone(),
        opts.enricher.clone(),
        opts.bus.clone(),
        clock.clone(),
    )
    .with_detect(feed.clone());

    let mut out = Outcome {
        run: run.into(),
        name: sc.name.clone(),
        file: file.into(),
        speed: opts.speed,
        start,
        end: start,
        stopped_early: false,
        first_post: None,
        minutes: Vec::new(),
        clock_map: Vec::new(),
        acked_seen: HashMap::new(),
        started_wall: wall,
    };
    let tick = Duration::from_secs_f64((60.0 / opts.speed.max(0.01)).min(60.0));
    let mut n = 0u64;
    let mut pending: Vec<Mention> = Vec::new();
    for minute in 0..sc.duration_minutes {
        // Pause: wait for resume or stop.
        loop {
            let c = *rx.borrow();
            match c {
                Control::Running => break,
                Control::Stopped => {
                    out.stopped_early = true;
                    break;
                }
                Control::Paused => {
                    if rx.changed().await.is_err() {
                        out.stopped_early = true;
                        break;
                    }
                }
            }
        }
        if out.stopped_early {
            break;
        }
        let t0 = start + minute * MIN;
        let mut ms = Vec::new();
        let mk = |n: &mut u64,
                  at: i64,
                  topic: &str,
                  channel: &str,
                  text: String,
                  handle: Option<String>,
                  followers: u64| {
            *n += 1;
            Mention {
                source: source.to_string(),
                source_id: n.to_string(),
                channel: channel.to_string(),
                created_at: at,
                text,
                author: Author {
                    handle,
                    followers: Some(followers),
                    ..Author::default()
                },
                topics: vec![topic.to_string()],
                inbound: Some(true),
                ..Mention::default()
            }
        };
        let mut bg = 0;
        for (topic, per_hour) in &sc.background.per_hour {
            for _ in 0..poisson(&mut rng, per_hour * daily(t0) / 60.0) {
                let text = background_text(&mut rng, topic);
                ms.push(mk(
                    &mut n,
                    t0 + rng.gen_range(0..MIN),
                    topic,
                    "x",
                    text,
                    None,
                    100,
                ));
                bg += 1;
            }
        }
        let mut inj = 0;
        for s in steps
            .iter()
            .filter(|s| s.from_min <= minute && minute < s.until_min)
        {
            let i = &s.inject;
            let span = (s.until_min - s.from_min).max(1);
            // Spread `count` evenly over the step's minutes.
            let here = (i.count as i64 * (minute - s.from_min + 1) / span
                - i.count as i64 * (minute - s.from_min) / span) as u32;
            for k in 0..here {
                let base = &i.texts[rng.gen_range(0..i.texts.len())];
                let text = if i.count == 1 {
                    base.clone()
                } else {
                    let d1 = DETAILS[rng.gen_range(0..DETAILS.len())];
                    let d2 = DETAILS[rng.gen_range(0..DETAILS.len())];
                    format!("{base}, {d1}, {d2}")
                };
                let handle = i
                    .author
                    .clone()
                    .or_else(|| Some(format!("drill_user_{}", rng.gen_range(0..1_000_000))));
                let at = t0 + (k as i64 * MIN / here.max(1) as i64);
                out.first_post = Some(out.first_post.map_or(at, |f: i64| f.min(at)));
                ms.push(mk(
                    &mut n,
                    at,
                    i.topic.get_ref(),
                    &i.channel,
                    text.clone(),
                    handle.clone(),
                    i.followers,
                ));
                inj += 1;
                // Reposts spread over the next ten minutes (arriving in their own minute).
                for r in 0..i.reposts {
                    let at_r = at + (r as i64 + 1) * 10 * MIN / (i.reposts as i64 + 1);
                    let rt = format!("RT @{}: {text}", handle.as_deref().unwrap_or("someone"));
                    let who = Some(format!("drill_fan_{r}"));
                    pending.push(mk(&mut n, at_r, i.topic.get_ref(), &i.channel, rt, who, 50));
                }
            }
        }
        let (due, later): (Vec<Mention>, Vec<Mention>) = std::mem::take(&mut pending)
            .into_iter()
            .partition(|m| m.created_at < t0 + MIN);
        pending = later;
        inj += due.len() as u32;
        ms.extend(due);
        ms.sort_by_key(|m| m.created_at);
        ingestor.ingest_mentions(source, ms).await?;
        let t1 = t0 + MIN;
        clock.set_ms(t1);
        feed.flush(Some(t1)).await;
        alerts.escalate_due().await?;
        for a in store
            .alerts_list(&AlertQuery {
                drill_run: Some(run.to_string()),
                limit: 100,
                ..AlertQuery::default()
            })
            .await?
        {
            if a.acked_at.is_some() {
                out.acked_seen.entry(a.id).or_insert(t1);
            }
        }
        out.minutes.push(Minute {
            t: t0,
            background: bg,
            injected: inj,
        });
        out.clock_map.push((t1, Clock::System.now_ms()));
        out.end = t1;
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = rx.changed() => {}
        }
    }
    alerts.set_drill_run(None);
    Ok(out)
}

fn poisson(rng: &mut StdRng, lambda: f64) -> usize {
    if lambda <= 0.0 {
        return 0;
    }
    let l = (-lambda.min(50.0)).exp();
    let (mut k, mut p) = (0usize, 1.0f64);
    loop {
        p *= rng.gen::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

/// Where reports go: `<database folder>/drills/`.
pub fn default_out_dir(db: &Path) -> PathBuf {
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
        .join("drills")
}
