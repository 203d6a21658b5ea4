//! Sunward core: ingest, enrichment, storage, rollups, the API dispatcher and the HTTP server.
//! Knows nothing of Tauri; the desktop shell (`src-tauri/`) calls [`api::App`].

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
pub mod http;
mod http_openapi;
pub mod ingest;
pub mod model;
pub mod rollup;
pub mod showcase;
pub mod sites;
pub mod sources;
pub mod store;
pub mod wall;
