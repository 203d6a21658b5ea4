//! An injectable clock: live, replay, drills and tests see the same time logic.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    /// A fixed or manually advanced time in milliseconds, for tests and replays.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(ms: i64) -> Self {
        Clock::Manual(Arc::new(AtomicI64::new(ms)))
    }
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => chrono::Utc::now().timestamp_millis(),
            Clock::Manual(t) => t.load(Ordering::Relaxed),
        }
    }
    pub fn set_ms(&self, ms: i64) {
        if let Clock::Manual(t) = self {
            t.store(ms, Ordering::Relaxed);
        }
    }
}
