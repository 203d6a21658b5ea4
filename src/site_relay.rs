//! Live events between sites that share one PostgreSQL database (docs/follow-the-sun.md).
//!
//! Each Sunward process sends the events that matter elsewhere (mentions, alerts, cases,
//! handoffs: [`Event::crosses_sites`]) with `pg_notify` on one channel, and listens on it for
//! the other sites' events, which it publishes on its own bus: their walls and panels update
//! as if the change happened here. NOTIFY is delivered at commit and carries at most 8000
//! bytes, so a `mentions` event sheds its sample of posts until it fits (the count stays).
//! If the listening connection drops, the relay reconnects and tells the UIs to re-read
//! (`resync`): notifications sent meanwhile are lost, the database is not.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

use crate::events::{Bus, Event};
use crate::store::PgStore;

/// The NOTIFY channel.
pub const CHANNEL: &str = "sunward_events";

/// PostgreSQL's payload limit is 8000 bytes; keep a margin for the envelope.
const MAX_PAYLOAD: usize = 7800;

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The sending process, so it ignores its own events.
    origin: String,
    /// The sending site's name (for logs and the UI), if it has one.
    site: Option<String>,
    event: Event,
}

/// Starts relaying events of `bus` to and from the other processes on `pg`.
pub fn spawn(pg: &PgStore, bus: &Bus, site: Option<String>) {
    let Some(outbox) = bus.attach_outbox(1024) else {
        return;
    };
    let origin = format!("{:016x}", rand::random::<u64>());
    tokio::spawn(send_loop(pg.clone(), outbox, origin.clone(), site));
    tokio::spawn(listen_loop(pg.clone(), bus.clone(), origin));
}

/// The payload for `event`, shrunk to fit NOTIFY; `None` if it cannot fit.
fn payload(origin: &str, site: &Option<String>, event: Event) -> Option<String> {
    let mut env = Envelope {
        origin: origin.to_string(),
        site: site.clone(),
        event,
    };
    loop {
        let text = serde_json::to_string(&env).ok()?;
        if text.len() <= MAX_PAYLOAD {
            return Some(text);
        }
        match &mut env.event {
            Event::Mentions { latest, .. } if !latest.is_empty() => {
                latest.pop();
            }
            _ => return None,
        }
    }
}

async fn send_loop(
    pg: PgStore,
    mut outbox: mpsc::Receiver<Event>,
    origin: String,
    site: Option<String>,
) {
    while let Some(event) = outbox.recv().await {
        let name = event.name();
        let Some(text) = payload(&origin, &site, event) else {
            tracing::warn!(
                event = name,
                "event too large to relay to other sites; they resync on the next one"
            );
            continue;
        };
        if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(&text)
            .execute(pg.read_pool())
            .await
        {
            tracing::warn!(event = name, "cannot relay an event to other sites: {e}");
        }
    }
}

async fn listen_loop(pg: PgStore, bus: Bus, origin: String) {
    let mut first = true;
    loop {
        let mut listener = match PgListener::connect_with(pg.read_pool()).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("cannot listen for other sites' events: {e}; retrying in 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!("cannot listen for other sites' events: {e}; retrying in 5 s");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        if !first {
            // Whatever the other sites did while we were deaf is in the database: re-read it.
            bus.publish_remote(Event::Resync {});
        }
        first = false;
        tracing::info!("listening for other sites' events");
        loop {
            // try_recv: None means the connection dropped (PgListener would otherwise
            // reconnect silently and we would not know to resync).
            match listener.try_recv().await {
                Ok(Some(n)) => match serde_json::from_str::<Envelope>(n.payload()) {
                    Ok(env) if env.origin == origin => {}
                    Ok(env) => bus.publish_remote(env.event),
                    Err(e) => tracing::warn!("unreadable event from another site: {e}"),
                },
                Ok(None) => {
                    tracing::warn!("lost the connection for other sites' events; reconnecting");
                    break;
                }
                Err(e) => {
                    tracing::warn!("listening for other sites' events failed: {e}; reconnecting");
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Label, Mention, StoredMention};

    #[test]
    fn big_mention_events_shed_posts_to_fit() {
        let m = StoredMention {
            id: 1,
            mention: Mention {
                text: "x".repeat(1000),
                ..Default::default()
            },
            sentiment: 0.0,
            label: Label::Neutral,
            influence: 0,
        };
        let e = Event::Mentions {
            count: 20,
            latest: vec![m; 20],
        };
        let p = payload("o", &None, e).expect("fits after shedding");
        assert!(p.len() <= MAX_PAYLOAD);
        let env: Envelope = serde_json::from_str(&p).expect("round trip");
        match env.event {
            Event::Mentions { count, latest } => {
                assert_eq!(count, 20);
                assert!(!latest.is_empty() && latest.len() < 20);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
