//! Live listening sources: a registry (`sources` table), secrets kept outside the database,
//! one supervised tokio task per enabled source, a health state per source, and inbound
//! webhooks. See docs/sources.md.
//!
//! Each task polls (or will stream), hands the bytes to the same parsers and ingest pipeline as
//! files, and commits its cursor in the same transaction as the mentions it produced
//! ([`crate::ingest::Ingestor::ingest_bytes_with_cursor`]), so a restart resumes after exactly
//! what was stored and identity `(source, source_id)` makes anything seen twice stored once.

pub mod api;
pub mod config_sync;
pub mod fetch;
mod reddit;
pub mod registry;
mod rss;
pub mod secrets;
mod stream;
pub mod webhook;
pub mod xrules;

use std::collections::HashMap;

use crate::store::DbTarget;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

pub use fetch::PollError;
pub use registry::{Kind, Registry, RegistryError, SourceConfig};
pub use secrets::{Backend, Secret, SecretStore, SourceSecrets};

use crate::ingest::Ingestor;
use crate::sources::Format;

/// The health of one source, as `GET /api/v1/sources` and `sunward source list` show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Health {
    /// Configured, nothing happened yet (a webhook before its first request).
    Idle,
    /// The last poll or request succeeded.
    Connected { since: i64 },
    /// Working, but behind: the last poll hit the per-poll item limit and more is waiting.
    Lagging { since: i64, detail: String },
    /// A transient failure; the next try is at `until` (ms UTC).
    BackingOff {
        until: i64,
        attempt: u32,
        last_error: String,
    },
    /// Failing repeatedly, or the server answers with something unusable; still retried.
    Failing {
        last_error: String,
        attempt: u32,
        retry_at: i64,
    },
    /// `enabled = 0` in the registry.
    Disabled,
}

/// What a successful poll did.
#[derive(Debug, Clone, Default)]
pub struct PollOk {
    pub read: u64,
    pub stored: u64,
    /// The poll stopped at its item limit: poll again at once.
    pub more: bool,
}

#[derive(Debug, Clone)]
struct Live {
    health: Health,
    last_ok_at: Option<i64>,
    last_poll_at: Option<i64>,
    read: u64,
    stored: u64,
    persisted: Option<Value>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            health: Health::Idle,
            last_ok_at: None,
            last_poll_at: None,
            read: 0,
            stored: 0,
            persisted: None,
        }
    }
}

/// A row of `sunward source list` / `GET /api/v1/sources`. Holds no secret.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub kind: Kind,
    pub url: String,
    pub interval_ms: i64,
    pub enabled: bool,
    pub created_at: i64,
    /// The env vars the secrets were read from (names only).
    pub options: Value,
    pub has_token: bool,
    pub has_secret: bool,
    pub health: Value,
    /// When the health was recorded (ms UTC), if ever.
    pub health_at: Option<i64>,
    pub cursor: Option<String>,
    /// Counters of this process (absent when read by another process than the server's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Value>,
}

/// Transient failures before a source is shown as failing rather than backing off.
const FAILING_AFTER: u32 = 3;
/// Longest pause between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// Exponential backoff with "equal jitter": half the delay fixed, half random, so sources that
/// failed together do not retry in lockstep.
pub fn backoff(base: Duration, attempt: u32, cap: Duration) -> Duration {
    use rand::Rng;
    let exp = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(cap);
    let half = exp / 2;
    half + Duration::from_millis(rand::thread_rng().gen_range(0..=half.as_millis() as u64))
}

pub(crate) struct Shared {
    pub(crate) client: reqwest::Client,
    pub(crate) ingestor: Ingestor,
    registry: Registry,
    live: Mutex<HashMap<String, Live>>,
}

impl Shared {
    /// Wall-clock time: health, rate limits and signatures are about real time.
    pub(crate) fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }

    fn update(&self, name: &str, f: impl FnOnce(&mut Live)) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        f(live.entry(name.to_string()).or_default());
    }

    /// Writes the health to the registry when it changed, for other processes to read.
    async fn persist_health(&self, name: &str) {
        let (h, at) = {
            let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            let l = live.entry(name.to_string()).or_default();
            let h = serde_json::to_value(&l.health).unwrap_or(Value::Null);
            if l.persisted.as_ref() == Some(&h) {
                return;
            }
            l.persisted = Some(h.clone());
            (h, self.now_ms())
        };
        if let Err(e) = self.registry.set_health(name, &h, at).await {
            tracing::warn!(source = name, error = %e, "could not record the source's health");
        }
    }
}

/// The running connectors of one database.
pub struct Connectors {
    shared: Arc<Shared>,
    db: DbTarget,
    secrets: SecretStore,
    replay: Mutex<HashMap<String, i64>>,
    /// Running source tasks by name, with the fingerprint of the configuration they run.
    tasks: Mutex<HashMap<String, Running>>,
    /// Serializes reconciliations (the watcher and API calls).
    reconciling: tokio::sync::Mutex<()>,
}

struct Running {
    fingerprint: String,
    task: Option<JoinHandle<()>>,
}

/// How often a running server re-reads the registry, so `sunward source add|remove|rules` in
/// another process takes effect without a restart.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(3);

impl Connectors {
    /// Starts one supervised task per enabled source of the database at `db` (its schema must
    /// be migrated: open the [`crate::store::Store`] first).
    pub async fn start(
        db: impl Into<DbTarget>,
        ingestor: Ingestor,
    ) -> anyhow::Result<Arc<Connectors>> {
        let db: DbTarget = db.into();
        let registry = Registry::open(db.clone()).await?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("Sunward/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()?;
        let shared = Arc::new(Shared {
            client,
            ingestor,
            registry: registry.clone(),
            live: Mutex::new(HashMap::new()),
        });
        let c = Arc::new(Connectors {
            shared: shared.clone(),
            secrets: SecretStore::for_db(db.clone()),
            db,
            replay: Mutex::new(HashMap::new()),
            tasks: Mutex::new(HashMap::new()),
            reconciling: tokio::sync::Mutex::new(()),
        });
        c.reconcile().await?;
        // The watcher holds a weak reference: dropping the app stops it.
        let weak = Arc::downgrade(&c);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RECONCILE_EVERY).await;
                let Some(c) = weak.upgrade() else { return };
                if let Err(e) = c.reconcile().await {
                    tracing::warn!(error = %e, "could not re-read the source registry");
                }
            }
        });
        Ok(c)
    }

    /// Brings the running tasks in line with the registry: starts new or changed sources
    /// (a changed URL, interval, option, secret or enabled flag restarts it from its cursor),
    /// stops removed ones.
    pub async fn reconcile(&self) -> anyhow::Result<()> {
        let _one_at_a_time = self.reconciling.lock().await;
        let mut wanted = Vec::new();
        for src in self.shared.registry.list().await? {
            let fp = self.fingerprint(&src).await;
            wanted.push((src, fp));
        }
        let mut start = Vec::new();
        {
            let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
            let names: std::collections::HashSet<&str> =
                wanted.iter().map(|(s, _)| s.name.as_str()).collect();
            tasks.retain(|name, r| {
                let keep = names.contains(name.as_str());
                if !keep {
                    tracing::info!(source = %name, "source removed: stopping it");
                    if let Some(t) = r.task.take() {
                        t.abort();
                    }
                }
                keep
            });
            for (src, fp) in wanted {
                match tasks.get_mut(&src.name) {
                    Some(r) if r.fingerprint == fp => {}
                    Some(r) => {
                        tracing::info!(source = %src.name, "source changed: restarting it");
                        if let Some(t) = r.task.take() {
                            t.abort();
                        }
                        start.push((src, fp));
                    }
                    None => start.push((src, fp)),
                }
            }
        }
        {
            let tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
            let mut live = self.shared.live.lock().unwrap_or_else(|p| p.into_inner());
            live.retain(|name, _| {
                tasks.contains_key(name) || start.iter().any(|(s, _)| &s.name == name)
            });
        }
        for (src, fp) in start {
            let name = src.name.clone();
            let task = self.launch(src).await;
            self.tasks.lock().unwrap_or_else(|p| p.into_inner()).insert(
                name,
                Running {
                    fingerprint: fp,
                    task,
                },
            );
        }
        Ok(())
    }

    /// What a source runs with; the secrets enter only as a digest.
    async fn fingerprint(&self, src: &SourceConfig) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(
            json!([
                src.kind.as_str(),
                src.url,
                src.interval_ms,
                src.options,
                src.enabled
            ])
            .to_string(),
        );
        if let Ok(sec) = self.secrets.get(&src.name).await {
            for v in [&sec.token, &sec.secret] {
                h.update([u8::from(v.is_some())]);
                if let Some(v) = v {
                    h.update(v.expose().as_bytes());
                }
            }
        }
        hex::encode(h.finalize())
    }

    async fn launch(&self, src: SourceConfig) -> Option<JoinHandle<()>> {
        let shared = self.shared.clone();
        let name = src.name.clone();
        if !src.enabled {
            shared.update(&name, |l| l.health = Health::Disabled);
            shared.persist_health(&name).await;
            return None;
        }
        match src.kind {
            Kind::Rss | Kind::Reddit | Kind::X | Kind::Mastodon | Kind::Jetstream => {
                let secrets = match self.secrets.get(&name).await {
                    Ok(s) => s,
                    Err(e) => {
                        let now = shared.now_ms();
                        shared.update(&name, |l| {
                            l.health = Health::Failing {
                                last_error: e.to_string(),
                                attempt: 0,
                                retry_at: now,
                            }
                        });
                        shared.persist_health(&name).await;
                        return None;
                    }
                };
                tracing::info!(source = %name, kind = src.kind.as_str(), "starting source");
                Some(tokio::spawn(supervise(shared, src, Arc::new(secrets))))
            }
            Kind::Webhook => {
                shared.update(&name, |l| l.health = Health::Idle);
                shared.persist_health(&name).await;
                None
            }
        }
    }

    /// Registers a source (as `sunward source add` does) and starts it at once.
    pub async fn add(
        &self,
        new: NewSource,
        secrets: SourceSecrets,
        now_ms: i64,
    ) -> anyhow::Result<SourceConfig> {
        let cfg = add_source(self.db.clone(), new, secrets, now_ms).await?;
        self.reconcile().await?;
        Ok(cfg)
    }

    /// Removes a source, its cursor and secrets, and stops it; `false` when there was none.
    pub async fn remove(&self, name: &str) -> anyhow::Result<bool> {
        let found = remove_source(self.db.clone(), name).await?;
        self.reconcile().await?;
        Ok(found)
    }

    /// Sets the X stream rules Sunward keeps for an `x` source; the source reconnects and syncs
    /// them with X.
    pub async fn set_rules(
        &self,
        name: &str,
        rules: &[xrules::WantedRule],
    ) -> anyhow::Result<api::RulesOutcome> {
        let Some(mut cfg) = self.shared.registry.get(name).await? else {
            return Ok(api::RulesOutcome::NoSuchSource);
        };
        if cfg.kind != Kind::X {
            return Ok(api::RulesOutcome::NotX(cfg.kind));
        }
        set_rules_option(&mut cfg, rules);
        self.shared.registry.update(&cfg).await?;
        self.reconcile().await?;
        Ok(api::RulesOutcome::Set)
    }

    /// Pauses or resumes a source; `false` when there is no such source.
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> anyhow::Result<bool> {
        let Some(mut cfg) = self.shared.registry.get(name).await? else {
            return Ok(false);
        };
        cfg.enabled = enabled;
        self.shared.registry.update(&cfg).await?;
        self.reconcile().await?;
        Ok(true)
    }

    /// Stops every source task (their cursors are already committed).
    pub fn shutdown(&self) {
        for (_, r) in self.tasks.lock().unwrap_or_else(|p| p.into_inner()).drain() {
            if let Some(t) = r.task {
                t.abort();
            }
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    /// Health and cursor of every configured source, with this process's counters.
    pub async fn statuses(&self) -> anyhow::Result<Vec<SourceStatus>> {
        let mut rows = statuses(&self.shared.registry, &self.secrets).await?;
        let live = self.shared.live.lock().unwrap_or_else(|p| p.into_inner());
        for r in &mut rows {
            if let Some(l) = live.get(&r.name) {
                r.health = serde_json::to_value(&l.health).unwrap_or(Value::Null);
                r.stats = Some(json!({
                    "read": l.read,
                    "stored": l.stored,
                    "last_ok_at": l.last_ok_at,
                    "last_poll_at": l.last_poll_at,
                }));
            }
        }
        Ok(rows)
    }

    /// Handles `POST /api/v1/sources/{name}/events`: `(HTTP status, JSON body)`.
    pub async fn webhook(
        &self,
        name: &str,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let err = |status: u16, msg: String| (status, json!({ "error": msg }));
        let src = match self.shared.registry.get(name).await {
            Ok(Some(s)) if s.kind == Kind::Webhook && s.enabled => s,
            Ok(_) => return err(404, format!("no enabled webhook source named `{name}`")),
            Err(e) => {
                tracing::error!(error = %e, "webhook: registry");
                return err(500, "the source registry is unavailable".into());
            }
        };
        let secret = match self.secrets.get(&src.name).await {
            Ok(SourceSecrets {
                secret: Some(s), ..
            }) => s,
            Ok(_) => {
                return err(
                    401,
                    format!("source `{name}` has no signing secret; re-add it with --secret-env"),
                )
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook: secrets");
                return err(
                    500,
                    "the secrets file is unreadable; see the server log".into(),
                );
            }
        };
        let now = self.shared.now_ms();
        let sig = match webhook::verify(
            secret.expose().as_bytes(),
            timestamp,
            signature,
            &body,
            now.div_euclid(1000),
        ) {
            Ok(s) => s,
            Err(why) => {
                tracing::warn!(source = name, reason = %why, "webhook request refused");
                return err(401, why);
            }
        };
        // Remembered for longer than a timestamp stays acceptable (up to 2 x tolerance).
        let window_ms = (2 * webhook::TOLERANCE_S + 60) * 1000;
        {
            let mut seen = self.replay.lock().unwrap_or_else(|p| p.into_inner());
            seen.retain(|_, at| *at >= now - window_ms);
            if seen.contains_key(&sig) {
                return err(
                    401,
                    "replayed request: this signature was already used".into(),
                );
            }
            seen.insert(sig.clone(), now);
        }
        match self
            .shared
            .registry
            .claim_signature(&sig, name, now, now - window_ms)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                return err(
                    401,
                    "replayed request: this signature was already used".into(),
                )
            }
            Err(e) => {
                self.forget(&sig);
                tracing::error!(error = %e, "webhook: signature table");
                return err(500, "could not record the request; retry".into());
            }
        }
        let result = self
            .shared
            .ingestor
            .ingest_bytes(&format!("source:{name}"), body, Format::Ndjson)
            .await;
        match result {
            Ok(report) => {
                self.shared.update(name, |l| {
                    l.read += report.read;
                    l.stored += report.stored;
                    l.last_ok_at = Some(now);
                    l.last_poll_at = Some(now);
                    if !matches!(l.health, Health::Connected { .. }) {
                        l.health = Health::Connected { since: now };
                    }
                });
                self.shared.persist_health(name).await;
                (200, serde_json::to_value(&report).unwrap_or(Value::Null))
            }
            Err(e) => {
                // Not stored: let the sender retry with the same signature.
                self.forget(&sig);
                let _ = self.shared.registry.release_signature(&sig).await;
                tracing::error!(source = name, error = %e, "webhook: storing failed");
                err(500, format!("storing failed: {e}"))
            }
        }
    }

    fn forget(&self, sig: &str) {
        self.replay
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(sig);
    }
}

impl Drop for Connectors {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What `sunward source add` asks for.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub kind: Kind,
    pub name: String,
    /// Required for every kind but `webhook`.
    pub url: Option<String>,
    /// `None` = [`DEFAULT_INTERVAL_MS`].
    pub interval_ms: Option<i64>,
    /// Names of the env vars the secrets were read from, recorded for `source list`.
    pub token_env: Option<String>,
    pub secret_env: Option<String>,
}

/// Stores wanted X rules in a source's options (an object; anything else is replaced).
pub fn set_rules_option(cfg: &mut SourceConfig, rules: &[xrules::WantedRule]) {
    if !cfg.options.is_object() {
        cfg.options = json!({});
    }
    cfg.options["rules"] = serde_json::to_value(rules).unwrap_or(Value::Null);
}

/// Polling interval when `--interval` is not given.
pub const DEFAULT_INTERVAL_MS: i64 = 60_000;

/// Validates and registers a source; its secrets go to the secrets file beside `db`, never into
/// the database. The database schema must be migrated (open the store first).
pub async fn add_source(
    db: impl Into<DbTarget>,
    new: NewSource,
    secrets: SourceSecrets,
    now_ms: i64,
) -> anyhow::Result<SourceConfig> {
    registry::validate_name(&new.name).map_err(anyhow::Error::msg)?;
    let url = match (&new.url, new.kind.needs_url()) {
        (Some(u), _) => u.trim().to_string(),
        (None, false) => String::new(),
        (None, true) => anyhow::bail!(
            "a {} source needs --url URL (what to read)",
            new.kind.as_str()
        ),
    };
    if new.kind.needs_url() || !url.is_empty() {
        registry::validate_url(new.kind, &url).map_err(anyhow::Error::msg)?;
    }
    if new.kind == Kind::Webhook && secrets.secret.is_none() {
        anyhow::bail!("a webhook source needs --secret-env VAR: the env var holding the signing secret that senders share");
    }
    if new.kind == Kind::X && secrets.token.is_none() {
        anyhow::bail!(
            "an x source needs --token-env VAR: the env var holding the API bearer token"
        );
    }
    let interval_ms = new.interval_ms.unwrap_or(DEFAULT_INTERVAL_MS);
    let db: DbTarget = db.into();
    let registry = Registry::open(db.clone()).await?;
    if registry.get(&new.name).await?.is_some() {
        return Err(RegistryError::Exists(new.name).into());
    }
    let cfg = SourceConfig {
        name: new.name,
        kind: new.kind,
        url,
        interval_ms,
        options: json!({ "token_env": new.token_env, "secret_env": new.secret_env }),
        enabled: true,
        created_at: now_ms,
    };
    registry.add(&cfg).await?;
    if let Err(e) = SecretStore::for_db(db).set(&cfg.name, &secrets).await {
        let _ = registry.remove(&cfg.name).await;
        return Err(e.into());
    }
    Ok(cfg)
}

/// Removes a source, its cursor and its secrets; `false` when there was no such source.
pub async fn remove_source(db: impl Into<DbTarget>, name: &str) -> anyhow::Result<bool> {
    let db: DbTarget = db.into();
    let registry = Registry::open(db.clone()).await?;
    let found = registry.remove(name).await?;
    SecretStore::for_db(db).remove(name).await?;
    Ok(found)
}

/// Registry rows with the last recorded health and the cursor (for `sunward source list`).
pub async fn statuses(
    registry: &Registry,
    secrets: &SecretStore,
) -> anyhow::Result<Vec<SourceStatus>> {
    let mut out = Vec::new();
    for s in registry.list().await? {
        let sec = secrets.get(&s.name).await.unwrap_or_default();
        let (health, health_at) = match registry.health(&s.name).await? {
            Some((h, at)) => (h, Some(at)),
            None => (json!({ "state": "idle" }), None),
        };
        out.push(SourceStatus {
            cursor: registry.cursor(&s.name).await?,
            has_token: sec.token.is_some(),
            has_secret: sec.secret.is_some(),
            health,
            health_at,
            name: s.name,
            kind: s.kind,
            url: s.url,
            interval_ms: s.interval_ms,
            enabled: s.enabled,
            created_at: s.created_at,
            options: s.options,
            stats: None,
        });
    }
    Ok(out)
}

async fn poll_once(
    shared: &Shared,
    src: &SourceConfig,
    secrets: &SourceSecrets,
) -> Result<PollOk, PollError> {
    match src.kind {
        Kind::Rss => rss::poll(shared, &shared.ingestor.store, &src.name, &src.url).await,
        Kind::Reddit => reddit::poll(shared, &src.name, &src.url, secrets.token.as_ref()).await,
        // Streams: `interval` is the stall timeout (no byte for that long -> reconnect).
        Kind::X => {
            // Sources that never had rules set leave X's rules alone.
            let rules = src
                .options
                .get("rules")
                .is_some()
                .then(|| xrules::wanted(&src.options));
            stream::run_x(
                shared,
                &src.name,
                &src.url,
                secrets.token.as_ref(),
                rules.as_deref(),
                stall(src),
            )
            .await
        }
        Kind::Mastodon => {
            stream::run_mastodon(
                shared,
                &src.name,
                &src.url,
                secrets.token.as_ref(),
                stall(src),
            )
            .await
        }
        Kind::Jetstream => stream::run_jetstream(shared, &src.name, &src.url, stall(src)).await,
        k => Err(PollError::new(format!(
            "the `{}` connector cannot be polled",
            k.as_str()
        ))),
    }
}

fn stall(src: &SourceConfig) -> Duration {
    Duration::from_millis(src.interval_ms.max(100) as u64)
}

fn panic_message(e: tokio::task::JoinError) -> String {
    if e.is_cancelled() {
        return "cancelled".into();
    }
    let p = e.into_panic();
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Runs one source forever. Each poll is its own task: a panic in it is caught here and
/// becomes a failure of this source only.
async fn supervise(shared: Arc<Shared>, src: SourceConfig, secrets: Arc<SourceSecrets>) {
    let poll = move |s: Arc<Shared>, src: SourceConfig| {
        let sec = secrets.clone();
        async move { poll_once(&s, &src, &sec).await }
    };
    supervise_with(shared, src, poll).await
}

async fn supervise_with<F, Fut>(shared: Arc<Shared>, src: SourceConfig, poll: F)
where
    F: Fn(Arc<Shared>, SourceConfig) -> Fut,
    Fut: std::future::Future<Output = Result<PollOk, PollError>> + Send + 'static,
{
    let interval = Duration::from_millis(src.interval_ms.max(100) as u64);
    let base = interval.min(Duration::from_secs(2));
    let mut attempt: u32 = 0;
    loop {
        let res = match tokio::spawn(poll(shared.clone(), src.clone())).await {
            Ok(r) => r,
            Err(j) => Err(PollError::new(format!(
                "the connector crashed: {}",
                panic_message(j)
            ))),
        };
        let now = shared.now_ms();
        let wait = match res {
            Ok(ok) => {
                attempt = 0;
                shared.update(&src.name, |l| {
                    l.read += ok.read;
                    l.stored += ok.stored;
                    l.last_ok_at = Some(now);
                    l.last_poll_at = Some(now);
                    l.health = if ok.more {
                        Health::Lagging {
                            since: now,
                            detail: "more items are waiting than one poll reads".into(),
                        }
                    } else {
                        match l.health {
                            Health::Connected { since } => Health::Connected { since },
                            _ => Health::Connected { since: now },
                        }
                    };
                });
                if ok.more || matches!(src.kind, Kind::X | Kind::Mastodon | Kind::Jetstream) {
                    Duration::ZERO
                } else {
                    interval
                }
            }
            Err(e) => {
                if e.after_connect {
                    attempt = 0;
                }
                attempt = attempt.saturating_add(1);
                let mut wait = backoff(base, attempt, MAX_BACKOFF);
                if let Some(ra) = e.retry_after {
                    wait = wait.max(ra);
                }
                let until = now + wait.as_millis() as i64;
                tracing::warn!(source = %src.name, attempt, error = %e.message, "source failed");
                shared.update(&src.name, |l| {
                    l.last_poll_at = Some(now);
                    l.health = if attempt >= FAILING_AFTER || e.content {
                        Health::Failing {
                            last_error: e.message.clone(),
                            attempt,
                            retry_at: until,
                        }
                    } else {
                        Health::BackingOff {
                            until,
                            attempt,
                            last_error: e.message.clone(),
                        }
                    };
                });
                wait
            }
        };
        shared.persist_health(&src.name).await;
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let base = Duration::from_secs(2);
        let cap = Duration::from_secs(60);
        for attempt in 1..=30u32 {
            let full = base.saturating_mul(1u32 << (attempt - 1).min(20)).min(cap);
            for _ in 0..20 {
                let d = backoff(base, attempt, cap);
                assert!(
                    d >= full / 2 && d <= full,
                    "attempt {attempt}: {d:?} vs {full:?}"
                );
            }
        }
        // Jitter: not every draw is the same.
        let draws: std::collections::BTreeSet<u128> =
            (0..50).map(|_| backoff(base, 4, cap).as_millis()).collect();
        assert!(draws.len() > 5);
    }

    /// A source whose poll panics every time is retried and reported; its neighbour runs on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_source_never_takes_down_another() {
        use std::sync::atomic::{AtomicU32, Ordering};

        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("p.db");
        let store = crate::store::Store::open_sqlite(&db).await.unwrap();
        let enricher = Arc::new(crate::enrich::Enricher::new(
            crate::config::Config::load(None).unwrap().query_set(),
        ));
        let shared = Arc::new(Shared {
            client: reqwest::Client::new(),
            ingestor: Ingestor::new(store, enricher, None, crate::clock::Clock::System),
            registry: Registry::open(&db).await.unwrap(),
            live: Mutex::new(HashMap::new()),
        });
        let src = |name: &str| SourceConfig {
            name: name.into(),
            kind: Kind::Rss,
            url: "http://127.0.0.1:9/".into(),
            interval_ms: 100,
            options: Value::Null,
            enabled: true,
            created_at: 0,
        };
        let (bad_polls, good_polls) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        let b = bad_polls.clone();
        let bad = tokio::spawn(supervise_with(shared.clone(), src("bad"), move |_, _| {
            b.fetch_add(1, Ordering::SeqCst);
            async move {
                if true {
                    panic!("boom");
                }
                Ok(PollOk::default())
            }
        }));
        let g = good_polls.clone();
        let good = tokio::spawn(supervise_with(shared.clone(), src("good"), move |_, _| {
            g.fetch_add(1, Ordering::SeqCst);
            async { Ok(PollOk::default()) }
        }));
        tokio::time::sleep(Duration::from_millis(900)).await;
        let live = shared.live.lock().unwrap().clone();
        assert!(
            bad_polls.load(Ordering::SeqCst) >= 2,
            "the crashed source is retried"
        );
        assert!(good_polls.load(Ordering::SeqCst) >= 4);
        match &live["bad"].health {
            Health::BackingOff { last_error, .. } | Health::Failing { last_error, .. } => {
                assert!(last_error.contains("crashed: boom"), "{last_error}")
            }
            h => panic!("unexpected health {h:?}"),
        }
        assert!(matches!(live["good"].health, Health::Connected { .. }));
        assert!(!bad.is_finished() && !good.is_finished());
        bad.abort();
        good.abort();
    }

    #[test]
    fn health_serializes_with_a_state_tag() {
        let h = Health::BackingOff {
            until: 5,
            attempt: 2,
            last_error: "HTTP 503".into(),
        };
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            json!({"state": "backing_off", "until": 5, "attempt": 2, "last_error": "HTTP 503"})
        );
    }
}
