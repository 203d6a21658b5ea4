//! The one API: command name + JSON args -> JSON. Tauri IPC and HTTP both call [`App::dispatch`],
//! so the desktop and the web server cannot drift apart.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::charts;
use crate::clock::Clock;
use crate::config::{default_db_path, Config};
use crate::demo::Generator;
use crate::enrich::Enricher;
use crate::events::{Bus, Event};
use crate::ingest::{IngestError, Ingestor, Report};
use crate::rollup;
use crate::sources::Format;
use crate::store::{Filter, GroupBy, Store};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unknown command `{0}`; see /api/v1/openapi.json for the list")]
    UnknownCommand(String),
    #[error("bad arguments: {0}")]
    BadArgs(String),
    /// The caller's role may not run this command (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// A named thing (case, alert, agent, ...) does not exist (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but conflicts with the current state, e.g. a case someone else
    /// owns (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<charts::ChartError> for ApiError {
    fn from(e: charts::ChartError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// SQLite file or `postgres://` URL; `None` = `$SUNWARD_DB` or the user's data directory.
    pub db: Option<crate::store::DbTarget>,
    /// Run the built-in demo scenario generator.
    pub demo: bool,
    /// Config file; `None` = `~/.config/sunward/config.toml` or the built-in defaults.
    pub config: Option<PathBuf>,
    /// A manual clock for tests and replays; `None` = the system clock.
    pub clock: Option<Clock>,
    /// The wall profile the walls run; `None` = the built-in `assets/walls/default.toml`.
    pub wall_profile: Option<PathBuf>,
}

struct Inner {
    store: Store,
    ingestor: Ingestor,
    bus: Bus,
    clock: Clock,
    demo: bool,
    db: crate::store::DbTarget,
    /// Wall profiles, operator controls, takeovers, source freshness (src/wall).
    walls: Arc<crate::wall::Walls>,
    /// Live listening sources (src/connectors), one supervised task each.
    connectors: Arc<crate::connectors::Connectors>,
    /// Crisis detection and alerts (src/alerts, issue 6).
    alerts: crate::alerts::Alerts,
}

/// The running core. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

/// The longest window a view may ask for: one week of minutes.
const MAX_MINUTES: i64 = 7 * 24 * 60;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ViewArgs {
    minutes: Option<i64>,
    topic: Option<String>,
    channel: Option<String>,
    limit: Option<i64>,
    name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    /// The viewer's UTC offset in minutes, for chart time labels.
    tz_offset_minutes: Option<i32>,
    /// The wall screen asking (src/showcase masks data for showcase screens).
    profile: Option<String>,
    screen: Option<usize>,
    showcase: Option<bool>,
}

impl ViewArgs {
    fn minutes(&self, default: i64) -> Result<i64, ApiError> {
        match self.minutes.unwrap_or(default) {
            m @ 1..=MAX_MINUTES => Ok(m),
            m => Err(ApiError::BadArgs(format!(
                "minutes must be between 1 and {MAX_MINUTES}, got {m}"
            ))),
        }
    }
    fn filter(&self) -> Filter {
        let clean = |s: &Option<String>| {
            s.as_ref()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Filter {
            topic: clean(&self.topic),
            channel: clean(&self.channel),
        }
    }
}

fn parse_args(args: Value) -> Result<ViewArgs, ApiError> {
    if args.is_null() {
        return Ok(ViewArgs::default());
    }
    serde_json::from_value(args).map_err(|e| ApiError::BadArgs(e.to_string()))
}

impl App {
    pub async fn start(opts: AppOptions) -> anyhow::Result<App> {
        let config = Config::load(opts.config.as_deref())?;
        // A broken profile never stops the core: the walls show the safe default layout and
        // say what to fix (src/wall/profile.rs).
        let walls_registry = crate::wall::Registry::load(opts.wall_profile.as_deref());
        let db = opts.db.clone().unwrap_or_else(crate::config::default_db);
        let store = Store::open(&db).await?;
        let clock = opts.clock.clone().unwrap_or_default();
        let bus = Bus::default();
        if let Store::Postgres(pg) = &store {
            // Several sites on one database: their events reach this site's walls and panels.
            let site = std::env::var("SUNWARD_SITE")
                .ok()
                .filter(|s| !s.trim().is_empty());
            crate::site_relay::spawn(pg, &bus, site);
        }
        let enricher = Arc::new(Enricher::new(config.query_set()));
        enricher.set_model(store.model_load().await?); // learned sentiment model, if any
        let ingestor = Ingestor::new(store.clone(), enricher, Some(bus.clone()), clock.clone());
        // Crisis detection on every stored batch, escalation every 5 s (src/alerts).
        let alerts_cfg = crate::alerts::AlertsConfig::load(None)?;
        let (feed, alerts) = crate::alerts::pipeline::start_for(
            &store,
            Some(bus.clone()),
            clock.clone(),
            alerts_cfg,
        )
        .await?;
        alerts.spawn_escalation(Duration::from_secs(5));
        let ingestor = ingestor.with_detect(feed);
        let synced =
            crate::connectors::config_sync::sync(&db, &config.sources, clock.now_ms()).await?;
        for p in &synced.problems {
            tracing::error!("config: {p}");
        }
        if !(synced.added.is_empty() && synced.updated.is_empty() && synced.disabled.is_empty()) {
            tracing::info!(added = ?synced.added, updated = ?synced.updated, disabled = ?synced.disabled, "config sources synced");
        }
        let connectors = crate::connectors::Connectors::start(&db, ingestor.clone()).await?;
        let walls =
            crate::wall::Walls::start_with(walls_registry, &bus, store.clone(), clock.clone());
        // Alerts still open from before a restart take the walls over again (not history
        // found while backfilling: src/alerts).
        for a in store.alerts_active().await?.iter().filter(|a| !a.backfill) {
            walls.note_alert(crate::alerts::notice(a));
        }
        let app = App {
            inner: Arc::new(Inner {
                store,
                ingestor,
                bus,
                clock,
                demo: opts.demo,
                db,
                walls,
                connectors,
                alerts,
            }),
        };
        app.spawn_heartbeat();
        crate::care::spawn_ticker(app.store().clone(), app.clock().clone(), app.bus().clone());
        crate::handoff::spawn_ticker(app.store().clone(), app.clock().clone(), app.bus().clone());
        if opts.demo {
            app.spawn_demo().await?;
        }
        Ok(app)
    }

    pub fn alerts(&self) -> &crate::alerts::Alerts {
        &self.inner.alerts
    }

    pub fn connectors(&self) -> &crate::connectors::Connectors {
        &self.inner.connectors
    }

    pub fn walls(&self) -> &crate::wall::Walls {
        &self.inner.walls
    }

    /// The database file (drill reports go beside it).
    /// Where local files of this database go (drill reports): beside the SQLite file, or in
    /// the user's data directory for PostgreSQL.
    pub fn db_path(&self) -> PathBuf {
        match &self.inner.db {
            crate::store::DbTarget::Sqlite(p) => p.clone(),
            crate::store::DbTarget::Postgres(_) => default_db_path(),
        }
    }

    pub fn db(&self) -> &crate::store::DbTarget {
        &self.inner.db
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    pub fn ingestor(&self) -> &Ingestor {
        &self.inner.ingestor
    }
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }
    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.bus.subscribe()
    }

    /// Stores an NDJSON body of Sunward mentions (the `POST /api/v1/mentions` path).
    pub async fn ingest_ndjson(&self, body: Vec<u8>) -> Result<Report, ApiError> {
        Ok(self
            .inner
            .ingestor
            .ingest_bytes("api", body, Format::Ndjson)
            .await?)
    }

    /// An inbound webhook (`POST /api/v1/sources/{name}/events`), authenticated by its HMAC
    /// signature, not the API token: `(HTTP status, JSON body)`.
    pub async fn source_webhook(
        &self,
        name: &str,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        self.inner
            .connectors
            .webhook(name, timestamp, signature, body)
            .await
    }

    fn spawn_heartbeat(&self) {
        let bus = self.inner.bus.clone();
        let clock = self.inner.clock.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                bus.publish(Event::Heartbeat {
                    now: clock.now_ms(),
                });
            }
        });
    }

    /// Backfills the last 24 hours (so the day chart is never empty), then generates in real time.
    async fn spawn_demo(&self) -> anyhow::Result<()> {
        crate::care::demo::start(
            self.store().clone(),
            self.clock().clone(),
            self.bus().clone(),
        )
        .await;
        let now = self.inner.clock.now_ms();
        let last = self
            .inner
            .store
            .latest_time("demo")
            .await?
            .unwrap_or(i64::MIN);
        let from = (now - 24 * 3_600_000).max(last.saturating_add(1));
        let mut generator = Generator::new(now as u64, from);
        let ingestor = self.inner.ingestor.clone();
        let clock = self.inner.clock.clone();
        // The backfill runs in the background: windows and the server come up at once and the
        // day chart fills within seconds.
        tokio::spawn(async move {
            let backfill = generator.range(from, now);
            tracing::info!(
                mentions = backfill.len(),
                "demo: backfilling up to 24 hours"
            );
            if let Err(e) = ingestor.ingest_mentions("demo", backfill).await {
                tracing::warn!(error = %e, "demo: could not store the backfill");
            }
            let mut until = now;
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                let now = clock.now_ms();
                if now <= until {
                    continue;
                }
                let batch = generator.range(until, now);
                until = now;
                if let Err(e) = ingestor.ingest_mentions("demo", batch).await {
                    tracing::warn!(error = %e, "demo: could not store generated mentions");
                }
            }
        });
        Ok(())
    }

    /// Runs `command` for `who`, after checking their role may (src/auth.rs).
    pub async fn dispatch_as(
        &self,
        who: &crate::auth::Principal,
        command: &str,
        args: Value,
    ) -> Result<Value, ApiError> {
        if !crate::auth::allowed(who.role, command) {
            return Err(ApiError::Forbidden(format!(
                "`{command}` is not allowed for the {} role of `{}`; ask an admin for a token with a role that may",
                who.role, who.name
            )));
        }
        if command == "whoami" {
            return to_json(who);
        }
        self.dispatch_checked(who, command, args).await
    }

    /// Runs `command` as the local administrator (CLI on the database file, tests).
    pub async fn dispatch(&self, command: &str, args: Value) -> Result<Value, ApiError> {
        self.dispatch_as(&crate::auth::Principal::admin(), command, args)
            .await
    }

    async fn dispatch_checked(
        &self,
        #[allow(unused_variables)] who: &crate::auth::Principal,
        command: &str,
        args: Value,
    ) -> Result<Value, ApiError> {
        let now = self.inner.clock.now_ms();
        let store = &self.inner.store;
        match command {
            "health" => Ok(json!({
                "ok": true,
                "version": env!("CARGO_PKG_VERSION"),
                "demo": self.inner.demo,
                "mentions": store.mention_count().await?,
                "now": now,
                "db": self.inner.db.to_string(),
            })),
            "volume" => {
                let a = parse_args(args)?;
                let v = rollup::volume(store, now, a.minutes(60)?, &a.filter()).await?;
                to_json(&v)
            }
            "sentiment" => {
                let a = parse_args(args)?;
                let v = rollup::sentiment(store, now, a.minutes(60)?, &a.filter()).await?;
                to_json(&v)
            }
            "stream" => {
                let a = parse_args(args)?;
                let limit = a.limit.unwrap_or(30);
                if !(1..=500).contains(&limit) {
                    return Err(ApiError::BadArgs(format!(
                        "limit must be between 1 and 500, got {limit}"
                    )));
                }
                let sc = crate::showcase::settings_for(
                    self,
                    who,
                    a.profile.as_deref(),
                    a.screen,
                    a.showcase,
                );
                let mentions = match &sc {
                    Some(sc) => crate::showcase::stream(self, sc, limit, &a.filter()).await?,
                    None => store.latest(limit, &a.filter()).await?,
                };
                Ok(json!({ "mentions": mentions }))
            }
            "chart" => {
                let a = parse_args(args)?;
                self.chart(&a, now).await
            }
            "rejects" => {
                let a = parse_args(args)?;
                let (total, rejects) = store.rejects(a.limit.unwrap_or(100)).await?;
                Ok(json!({ "total": total, "rejects": rejects }))
            }
            "wall_profile" => to_json(&self.inner.walls.registry().primary.profile),
            "sources" => {
                if !(args.is_null() || args.as_object().is_some_and(|o| o.is_empty())) {
                    return Err(ApiError::BadArgs("sources takes no arguments".into()));
                }
                let sources = self
                    .inner
                    .connectors
                    .statuses()
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                Ok(json!({ "sources": sources }))
            }
            // Areas dispatch their own `area.verb` commands; each returns None for commands
            // that are not its own. One line per area.
            other => {
                if let Some(r) =
                    crate::connectors::api::dispatch(self, who, other, args.clone()).await
                {
                    return r;
                }
                if let Some(r) =
                    crate::enrich::correct::dispatch(self, who, other, args.clone()).await
                {
                    return r;
                }
                if let Some(r) = crate::wall::api::dispatch(self, who, other, args.clone()).await {
                    return r;
                }
                if let Some(r) = crate::showcase::dispatch(self, who, other, args.clone()).await {
                    return r;
                }
                if let Some(r) = crate::alerts::api::dispatch(self, who, other, args.clone()).await
                {
                    return r;
                }
                if let Some(r) = crate::drills::api::dispatch(self, who, other, args.clone()).await
                {
                    return r;
                }
                if let Some(r) = crate::care::api::dispatch(self, who, other, args.clone()).await {
                    return r;
                }
                if let Some(r) = crate::sites::api::dispatch(self, who, other, args.clone()).await {
                    return r;
                }
                if let Some(r) = crate::handoff::api::dispatch(self, who, other, args.clone()).await
                {
                    return r;
                }
                let _ = (&args, who);
                Err(ApiError::UnknownCommand(other.to_string()))
            }
        }
    }

    async fn chart(&self, a: &ViewArgs, now: i64) -> Result<Value, ApiError> {
        let store = &self.inner.store;
        let (w, h) = (a.width.unwrap_or(1200), a.height.unwrap_or(500));
        let offset = a.tz_offset_minutes.unwrap_or(0).clamp(-14 * 60, 14 * 60) * 60;
        let f = a.filter();
        let svg = match a.name.as_deref().unwrap_or("volume") {
            "volume" => {
                let minutes = a.minutes(60)?;
                let (from, to) = rollup::window(now, minutes);
                let series = store.minutes(from, to, &f).await?;
                // Keep bars at least a few pixels wide: about 96 bars whatever the window.
                let bucket = (minutes as usize).div_ceil(96).max(1);
                charts::volume_svg(&charts::bucketize(&series, bucket), w, h, offset)?
            }
            "sentiment" => {
                let v = rollup::sentiment(store, now, a.minutes(60)?, &f).await?;
                let trend: Vec<(i64, f64)> = v.trend.iter().map(|p| (p.t, p.net)).collect();
                charts::sentiment_svg(&trend, w, h, offset)?
            }
            "channels" | "topics" => {
                let (from, to) = rollup::window(now, a.minutes(60)?);
                let by = if a.name.as_deref() == Some("topics") {
                    GroupBy::Topic
                } else {
                    GroupBy::Channel
                };
                charts::bars_svg(&store.totals_by(by, from, to, &f).await?, w, h)?
            }
            other => {
                return Err(ApiError::BadArgs(format!(
                    "unknown chart `{other}`; use volume, sentiment, channels or topics"
                )))
            }
        };
        Ok(json!({ "svg": svg }))
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}
