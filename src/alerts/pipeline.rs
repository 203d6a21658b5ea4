//! Detection as mentions are ingested: the ingest pipeline hands each stored batch to [`Feed`]
//! (a bounded channel), and one task runs the detector and the alert service on it. Detection
//! never holds the database write lock; a full channel slows ingest down slightly rather than
//! losing batches, so a historical file yields exactly the alerts it would have yielded live.

use tokio::sync::{mpsc, oneshot};

use super::Alerts;
use crate::detect::{Detector, Input, Stats};
use crate::store::NewMention;

/// Batches waiting for the detector at most.
const QUEUE: usize = 16;

enum Msg {
    Batch(Vec<NewMention>),
    /// Evaluates the minutes up to the given event time (or the newest seen) and answers.
    Flush(Option<i64>, oneshot::Sender<Stats>),
}

/// The ingest side of detection. Cheap to clone.
#[derive(Clone)]
pub struct Feed {
    tx: mpsc::Sender<Msg>,
}

impl Feed {
    /// Hands a stored batch to the detector (waits only if the detector is 16 batches behind).
    pub async fn send(&self, batch: Vec<NewMention>) {
        if batch.is_empty() {
            return;
        }
        if self.tx.send(Msg::Batch(batch)).await.is_err() {
            tracing::warn!("the detector task stopped; detection is off until restart");
        }
    }

    /// Waits until everything sent so far is detected and stored, evaluating the minutes up to
    /// `until` (event time; a drill's clock) or, with `None`, up to the newest mention seen
    /// (the end of a file).
    pub async fn flush(&self, until: Option<i64>) -> Option<Stats> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Msg::Flush(until, tx)).await.ok()?;
        rx.await.ok()
    }
}

/// Starts the detector task.
pub fn spawn(mut detector: Detector, alerts: Alerts) -> Feed {
    let (tx, mut rx) = mpsc::channel::<Msg>(QUEUE);
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let signals = match msg {
                Msg::Batch(b) => {
                    let inputs: Vec<Input> = b.into_iter().map(Input::from).collect();
                    detector.push(inputs)
                }
                Msg::Flush(until, done) => {
                    let s = match until {
                        Some(t) => detector.flush_until(t),
                        None => detector.finish(),
                    };
                    if let Err(e) = alerts.apply(s).await {
                        tracing::warn!(error = %e, "could not store alerts");
                    }
                    let _ = done.send(detector.stats().clone());
                    continue;
                }
            };
            if let Err(e) = alerts.apply(signals).await {
                tracing::warn!(error = %e, "could not store alerts");
            }
        }
    });
    Feed { tx }
}

/// Days of stored rollups read back into the baseline when detection starts.
const WARM_DAYS: i64 = 15;

/// Detection for a process that ingests into `store`: loads `assets/alerts.toml` (or the user's
/// copy), warms the baseline from the stored per-minute rollups of the last days before `now`
/// (so a restart does not need days of warm-up again), and starts the detector task.
pub async fn start_for(
    store: &crate::store::Store,
    bus: Option<crate::events::Bus>,
    clock: crate::clock::Clock,
    cfg: super::AlertsConfig,
) -> Result<(Feed, Alerts), crate::store::StoreError> {
    let mut detector = Detector::new(cfg.detect.clone(), &cfg.terms);
    let now = clock.now_ms();
    let rows = store
        .rollup_hours(now - WARM_DAYS * 24 * 3_600_000, now)
        .await?;
    detector.warm(rows);
    let alerts = Alerts::start(store.clone(), bus, clock, cfg).await?;
    Ok((spawn(detector, alerts.clone()), alerts))
}
