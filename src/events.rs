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
    /// An alert was opened, grew, or changed state (src/alerts, issue 6). Walls take over for
    /// alerts at or above their profile's takeover severity while `state` is `open` or
    /// `escalated`, and resume rotation when it becomes `acknowledged` or `resolved`.
    Alert(AlertNotice),
    /// An operator pushed a view to, froze, blacked out or released wall screens (src/wall);
    /// `profile`/`screen` absent = every profile / every screen.
    WallControl(crate::wall::Control),
    /// Care cases changed (src/care): `what` = triage, assign, reply, approve, tick, ...;
    /// `ids` = the cases. Panels and the agent-load wall re-read.
    Cases {
        what: String,
        ids: Vec<i64>,
    },
}

/// What walls and panels need to know about an alert change, without a database read.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct AlertNotice {
    pub id: i64,
    /// volume_spike, negative_shift, influencer, crisis_terms, ...
    pub kind: String,
    /// watch, warning or crisis.
    pub severity: String,
    /// open, acknowledged, escalated or resolved.
    pub state: String,
    /// One line for a wall, e.g. "Volume spike on #outage: 412/h vs 60/h expected".
    pub title: String,
    pub topic: Option<String>,
    pub channel: Option<String>,
    /// Event time the alert fired (ms).
    pub fired_at: i64,
    /// Part of a drill: shown with a DRILL mark, never counted as real.
    pub drill: bool,
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Mentions { .. } => "mentions",
            Event::Heartbeat { .. } => "heartbeat",
            Event::Resync {} => "resync",
            Event::Alert(_) => "alert",
            Event::WallControl(_) => "wall_control",
            Event::Cases { .. } => "cases",
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
