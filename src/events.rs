//! The broadcast bus: the core publishes, the Tauri shell and the SSE endpoint forward.

use serde::Serialize;
use tokio::sync::broadcast;

use crate::model::StoredMention;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A batch of mentions was stored; `latest` holds the newest few (not all of them).
    Mentions {
        count: u64,
        latest: Vec<StoredMention>,
    },
    Heartbeat {
        now: i64,
    },
    /// The subscriber missed events and must re-read its state.
    Resync {},
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Mentions { .. } => "mentions",
            Event::Heartbeat { .. } => "heartbeat",
            Event::Resync {} => "resync",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Bus {
    tx: broadcast::Sender<Event>,
}

impl Bus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Bus { tx }
    }
    pub fn publish(&self, event: Event) {
        // No subscriber is fine: nobody is watching.
        let _ = self.tx.send(event);
    }
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new(1024)
    }
}
