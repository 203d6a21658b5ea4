//! Sunward core: ingest, enrichment, storage, rollups, the API dispatcher and the HTTP server.
//! Knows nothing of Tauri; the desktop shell (`src-tauri/`) calls [`api::App`].

// First: its SQL macros (src/store/dual.rs) serve every module below.
#[macro_use]
pub mod store;
pub mod alerts;
pub mod api;
pub mod auth;
pub mod bench;
pub mod bench_detect;
pub mod care;
pub mod charts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod detect;
pub mod drills;
pub mod enrich;
pub mod events;
pub mod handoff;
pub mod http;
mod http_openapi;
pub mod ingest;
pub mod model;
pub mod rollup;
pub mod showcase;
pub mod site_relay;
pub mod sites;
pub mod sources;
pub mod wall;
