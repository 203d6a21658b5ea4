//! Follow-the-sun handoffs (issue 5): at shift end the outgoing site's lead gets a brief of
//! everything the next site must know (open cases with their SLA clocks, active alerts, watch
//! items, the last hours' volume and sentiment, notes), edits it, signs it, and the incoming
//! lead acknowledges it (whole or per item). Signing moves the outgoing site's open cases to the
//! incoming site's agents in one transaction, SLA clocks untouched. An unacknowledged brief
//! escalates along the incoming shift's on-call chain. See docs/follow-the-sun.md.
//!
//! [`model`] is the brief as stored and served, [`generate`] builds it and runs the
//! lifecycle, [`chart`] draws the volume+sentiment picture, [`export`] writes Markdown/HTML,
//! [`api`] holds the `handoff.*` commands.

pub mod api;
pub mod chart;
pub mod export;
pub mod generate;
pub mod model;

pub use generate::{spawn_ticker, tick, Ctx};
pub use model::{Brief, BriefCase, Contact, Content, Item, Watch};
