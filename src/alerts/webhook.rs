//! Outbound webhooks for alerts: Slack- and Teams-compatible JSON (`text` carries the message;
//! `sunward` carries the alert), signed like Sunward's inbound webhooks:
//! `X-Sunward-Timestamp: {unix seconds}` and `X-Sunward-Signature: sha256={hex}` where hex =
//! HMAC-SHA256(secret, "{timestamp}.{body}").
//!
//! A stuck receiver must never block ingest or detection: deliveries go through a bounded queue
//! with `try_send` (a full queue dead-letters at once), one worker delivers with a timeout and
//! retries with backoff, and a delivery that fails every attempt is dead-lettered in
//! `webhook_dead` (counted, never silently dropped).

use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::config::WebhookDef;
use crate::clock::Clock;
use crate::connectors::webhook::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::detect::Severity;
use crate::events::AlertNotice;
use crate::store::Store;

/// Deliveries waiting at most.
pub const QUEUE: usize = 256;
/// Attempts per delivery, and the pause before each retry.
pub const BACKOFF_MS: [u64; 3] = [500, 2_000, 8_000];
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
struct Delivery {
    target: String,
    url: String,
    secret: Option<Vec<u8>>,
    body: String,
    alert_id: i64,
}

#[derive(Clone)]
pub struct Sender {
    tx: mpsc::Sender<Delivery>,
    defs: Vec<WebhookDef>,
    store: Store,
    clock: Clock,
}

/// The JSON a receiver gets. `text` is what Slack and Teams incoming webhooks display.
pub fn body(n: &AlertNotice, note: &str) -> Value {
    let mark = if n.drill { "[DRILL] " } else { "" };
    let text = format!(
        "{mark}[{}] {} ({}){}",
        n.severity.to_uppercase(),
        n.title,
        n.state,
        if note.is_empty() {
            String::new()
        } else {
            format!(" - {note}")
        }
    );
    json!({ "text": text, "title": format!("{mark}Sunward alert {}", n.id), "sunward": n })
}

impl Sender {
    pub fn start(store: Store, clock: Clock, defs: Vec<WebhookDef>) -> Sender {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(worker(
            rx,
            store.clone(),
            clock.clone(),
            BACKOFF_MS.to_vec(),
        ));
        Sender {
            tx,
            defs,
            store,
            clock,
        }
    }

    /// Queues the alert for `target` (a webhook name) or, with `None`, for every webhook whose
    /// `min_severity` the alert reaches. Never waits.
    pub fn send(&self, target: Option<&str>, n: &AlertNotice, note: &str) {
        let sev = Severity::parse(&n.severity).unwrap_or(Severity::Watch);
        for d in &self.defs {
            let wanted = match target {
                Some(t) => t == d.name,
                None => Severity::parse(&d.min_severity).is_some_and(|m| sev >= m),
            };
            if !wanted {
                continue;
            }
            let secret = d
                .secret_env
                .as_ref()
                .and_then(|v| std::env::var(v).ok())
                .map(String::into_bytes);
            let delivery = Delivery {
                target: d.name.clone(),
                url: d.url.clone(),
                secret,
                body: body(n, note).to_string(),
                alert_id: n.id,
            };
            if let Err(e) = self.tx.try_send(delivery) {
                let (d, why) = match e {
                    mpsc::error::TrySendError::Full(d) => {
                        (d, "queue full: the receiver is too slow or stuck")
                    }
                    mpsc::error::TrySendError::Closed(d) => (d, "delivery worker stopped"),
                };
                tracing::warn!(target = %d.target, "webhook not queued: {why}");
                let store = self.store.clone();
                let now = self.clock.now_ms();
                tokio::spawn(async move {
                    let _ = store
                        .webhook_dead_add(&d.target, Some(d.alert_id), &d.body, why, 0, now)
                        .await;
                });
            }
        }
    }
}

async fn worker(mut rx: mpsc::Receiver<Delivery>, store: Store, clock: Clock, backoff: Vec<u64>) {
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks disabled: cannot build an HTTP client");
            return;
        }
    };
    while let Some(d) = rx.recv().await {
        let mut attempts = 0i64;
        let mut last_err = String::new();
        let mut ok = false;
        for pause in std::iter::once(0).chain(backoff.iter().copied()) {
            if pause > 0 {
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            attempts += 1;
            let ts = clock.now_ms() / 1000;
            let mut req = client
                .post(&d.url)
                .header("content-type", "application/json")
                .header(TIMESTAMP_HEADER, ts.to_string())
                .body(d.body.clone());
            if let Some(s) = &d.secret {
                req = req.header(SIGNATURE_HEADER, sign(s, ts, d.body.as_bytes()));
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => {
                    ok = true;
                    break;
                }
                Ok(r) => last_err = format!("HTTP {}", r.status()),
                Err(e) => last_err = e.to_string(),
            }
        }
        if !ok {
            tracing::warn!(target = %d.target, attempts, error = %last_err, "webhook dead-lettered");
            let _ = store
                .webhook_dead_add(
                    &d.target,
                    Some(d.alert_id),
                    &d.body,
                    &last_err,
                    attempts,
                    clock.now_ms(),
                )
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_slack_and_teams_shaped_and_marks_drills() {
        let n = AlertNotice {
            id: 3,
            kind: "volume_spike".into(),
            severity: "crisis".into(),
            state: "open".into(),
            title: "Volume spike on topic delays".into(),
            topic: Some("delays".into()),
            channel: None,
            fired_at: 0,
            drill: true,
        };
        let b = body(&n, "");
        let text = b["text"].as_str().unwrap();
        assert!(text.starts_with("[DRILL] [CRISIS] Volume spike"), "{text}");
        assert_eq!(b["sunward"]["id"], 3);
    }
}
