//! The one API: command name + JSON args -> JSON. Tauri IPC and HTTP both call [`App::dispatch`].

use std::path::PathBuf;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::events::{Bus, Event};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unknown command `{0}`")]
    UnknownCommand(String),
    #[error("bad arguments: {0}")]
    BadArgs(String),
    #[error("{0}")]
    Internal(String),
}

#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// SQLite file; `None` = the user's data directory.
    pub db: Option<PathBuf>,
    /// Run the built-in demo scenario generator.
    pub demo: bool,
    /// Config file; `None` = defaults.
    pub config: Option<PathBuf>,
}

/// The running core. Cheap to clone.
#[derive(Clone)]
pub struct App {
    bus: Bus,
}

impl App {
    pub async fn start(_opts: AppOptions) -> anyhow::Result<App> {
        Ok(App { bus: Bus::default() })
    }

    pub async fn dispatch(&self, command: &str, _args: Value) -> Result<Value, ApiError> {
        Err(ApiError::UnknownCommand(command.to_string()))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.bus.subscribe()
    }
}
