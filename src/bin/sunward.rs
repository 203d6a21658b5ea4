//! `sunward`: the command-line face of the core (serve, ingest, rejects, bench, generate).

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use sunward::api::{App, AppOptions};
use sunward::clock::Clock;
use sunward::config::Config;
use sunward::connectors::{self, Secret};
use sunward::enrich::Enricher;
use sunward::ingest::{IngestError, Ingestor, Report};
use sunward::sources::Format;
use sunward::store::Store;

use sunward::bench;

#[derive(Parser)]
#[command(
    name = "sunward",
    version,
    about = "Sunward: a command center for social customer care"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

use sunward::cli::DbArg;

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API, live events and the UI
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        /// Run the built-in demo scenario (a fictional airline) in real time
        #[arg(long)]
        demo: bool,
        /// Config file (listening topics)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Wall profile served to wall screens [default: the built-in assets/walls/default.toml]
        #[arg(long, value_name = "FILE")]
        wall_profile: Option<PathBuf>,
    },
    /// Ingest files of real feed formats into the database
    Ingest {
        #[command(flatten)]
        db: DbArg,
        /// Input format; detected from the content when omitted
        #[arg(long, default_value = "auto")]
        format: String,
        /// Print the report as JSON; the last line of stdout is the total
        #[arg(long)]
        json: bool,
        /// Config file (listening topics)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Files to ingest
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List rejected records (the dead-letter table) with their reasons
    Rejects {
        #[command(flatten)]
        db: DbArg,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Write demo mentions as Sunward NDJSON (for trying ingest, and for benchmarks)
    Generate {
        /// Number of mentions
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output file (`-` for stdout)
        #[arg(long, short, default_value = "-")]
        out: PathBuf,
    },
    /// Live listening sources (RSS/Atom, Mastodon, Bluesky Jetstream, X, Reddit, webhooks)
    Source {
        #[command(subcommand)]
        what: SourceCmd,
    },
    /// Crisis alerts: list, show, acknowledge, resolve
    Alerts {
        #[command(subcommand)]
        what: sunward::cli::alerts::AlertsCmd,
    },
    /// Crisis drills: run a scenario file, list scenarios and runs
    Drill {
        #[command(subcommand)]
        what: sunward::cli::drills::DrillCmd,
    },
    /// Wall profiles: check a profile and see what goes on which monitor
    Wall {
        #[command(subcommand)]
        what: sunward::cli::wall::WallCmd,
    },
    /// Follow-the-sun sites: time zones, shifts, the next site, on-call contacts
    Sites {
        #[command(subcommand)]
        what: sunward::cli::sites::SitesCmd,
    },
    /// Who is on duty across the sites, and the coverage gaps and overlaps
    Shifts {
        #[command(subcommand)]
        what: sunward::cli::sites::ShiftsCmd,
    },
    /// Follow-the-sun handoff briefs: create, sign, acknowledge; move load between sites
    Handoff {
        #[command(subcommand)]
        what: sunward::cli::handoff::HandoffCmd,
    },
    /// API tokens per person or wall PC, with a role
    Token {
        #[command(subcommand)]
        what: sunward::cli::tokens::TokenCmd,
    },
    #[command(flatten)]
    Sentiment(sunward::cli::sentiment::SentimentCmd),
    #[command(flatten)]
    Care(sunward::cli::cases::CareCmd),
    /// Measure the speed targets: ingest, sentiment, SSE latency
    Bench {
        #[command(subcommand)]
        what: bench::BenchCmd,
    },
}

#[derive(Subcommand)]
enum SourceCmd {
    /// Register a source; `sunward serve` runs it (secrets are read from env vars, never args)
    Add {
        #[command(flatten)]
        db: DbArg,
        /// rss, mastodon, jetstream, x, reddit or webhook
        kind: String,
        /// A unique name: lowercase letters, digits, `-`, `_` (webhooks post to /api/v1/sources/NAME/events)
        name: String,
        /// What to read (every kind but webhook)
        #[arg(long)]
        url: Option<String>,
        /// Env var holding the API token (X bearer token, Mastodon access token)
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
        /// Env var holding the webhook signing secret
        #[arg(long, value_name = "VAR")]
        secret_env: Option<String>,
        /// Polling interval, e.g. 60s, 5m, 1h (1s to 24h)
        #[arg(long)]
        interval: Option<String>,
    },
    /// List sources with their health and cursor
    List {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
    /// Remove a source, its cursor and its secrets (stored mentions stay)
    Remove {
        #[command(flatten)]
        db: DbArg,
        name: String,
    },
    /// Pause a source (a running server stops it within seconds; its cursor stays)
    Disable {
        #[command(flatten)]
        db: DbArg,
        name: String,
    },
    /// Resume a paused source from its cursor
    Enable {
        #[command(flatten)]
        db: DbArg,
        name: String,
    },
    /// Show or change the X filtered-stream rules Sunward keeps on X for an `x` source
    Rules {
        #[command(flatten)]
        db: DbArg,
        name: String,
        /// Add a rule, e.g. --add '@SkylarkAir -is:retweet' (repeatable)
        #[arg(long, value_name = "RULE")]
        add: Vec<String>,
        /// Label for the rules added now (X shows it as sunward:TAG on matching posts)
        #[arg(long)]
        tag: Option<String>,
        /// Remove the rule with this exact value (repeatable)
        #[arg(long, value_name = "RULE")]
        remove: Vec<String>,
        /// Remove every rule (X's Sunward-tagged rules are deleted at the next connect)
        #[arg(long)]
        clear: bool,
        #[arg(long)]
        json: bool,
    },
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SUNWARD_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    });
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            db,
            listen,
            demo,
            config,
            wall_profile,
        } => {
            let token = match std::env::var("SUNWARD_TOKEN") {
                Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
                _ => {
                    let t = random_token();
                    eprintln!("API token (set SUNWARD_TOKEN to choose your own): {t}");
                    t
                }
            };
            let app = App::start(AppOptions {
                db: Some(db.target()),
                demo,
                config,
                clock: None,
                wall_profile,
            })
            .await?;
            eprintln!(
                "Sunward listening on http://{listen}/ — operator: http://{listen}/?token=TOKEN#/operator, walls: http://{listen}/?token=TOKEN#/wall/0"
            );
            sunward::http::serve(app, listen, &token).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest {
            db,
            format,
            json,
            config,
            files,
        } => ingest(db.target(), &format, json, config, files).await,
        Command::Rejects { db, limit, json } => {
            let store = db.open().await?;
            let (total, rows) = store.rejects(limit).await?;
            if json {
                println!("{}", serde_json::json!({ "total": total, "rejects": rows }));
            } else if rows.is_empty() {
                println!("No rejected records.");
            } else {
                println!("{total} rejected record(s); newest {}:", rows.len());
                for r in rows {
                    println!(
                        "{}:{}  {}  {}{}",
                        r.origin,
                        r.line,
                        r.reason,
                        r.detail,
                        if r.seen > 1 {
                            format!("  (seen {}x)", r.seen)
                        } else {
                            String::new()
                        }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { count, seed, out } => {
            bench::write_demo_ndjson(&out, count, seed)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Source { what } => source(what).await,
        Command::Bench { what } => bench::run(what).await,
        Command::Token { what } => sunward::cli::tokens::run(what).await,
        Command::Sites { what } => sunward::cli::sites::run_sites(what).await,
        Command::Shifts { what } => sunward::cli::sites::run_shifts(what).await,
        Command::Handoff { what } => sunward::cli::handoff::run(what).await,
        Command::Wall { what } => sunward::cli::wall::run(what).await,
        Command::Alerts { what } => sunward::cli::alerts::run(what).await,
        Command::Drill { what } => sunward::cli::drills::run(what).await,
        Command::Sentiment(c) => sunward::cli::sentiment::run(c).await,
        Command::Care(c) => sunward::cli::cases::run(c).await,
    }
}

/// Reads a secret from the env var the operator named; the value never appears in output.
fn secret_from_env(flag: &str, var: &Option<String>) -> anyhow::Result<Option<Secret>> {
    let Some(var) = var else { return Ok(None) };
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Ok(Some(Secret::new(v.trim()))),
        _ => anyhow::bail!("{flag} {var}: the environment variable {var} is not set or empty; export it first (e.g. `read -s {var}; export {var}`)"),
    }
}

async fn source(cmd: SourceCmd) -> anyhow::Result<ExitCode> {
    let cmd_kind = match &cmd {
        SourceCmd::Enable { .. } => "enable",
        _ => "",
    };
    match cmd {
        SourceCmd::Add {
            db,
            kind,
            name,
            url,
            token_env,
            secret_env,
            interval,
        } => {
            let fail = |e: String| {
                eprintln!("error: {e}");
                Ok(ExitCode::from(EXIT_UNUSABLE))
            };
            let kind: connectors::Kind = match kind.parse() {
                Ok(k) => k,
                Err(e) => return fail(e),
            };
            let interval_ms = match interval
                .as_deref()
                .map(connectors::registry::parse_interval)
            {
                Some(Err(e)) => return fail(e),
                Some(Ok(ms)) => Some(ms),
                None => None,
            };
            let secrets = connectors::SourceSecrets {
                token: match secret_from_env("--token-env", &token_env) {
                    Ok(s) => s,
                    Err(e) => return fail(e.to_string()),
                },
                secret: match secret_from_env("--secret-env", &secret_env) {
                    Ok(s) => s,
                    Err(e) => return fail(e.to_string()),
                },
            };
            let path = db.target();
            Store::open(&path).await?;
            let new = connectors::NewSource {
                kind,
                name,
                url,
                interval_ms,
                token_env,
                secret_env,
            };
            match connectors::add_source(&path, new, secrets, Clock::System.now_ms()).await {
                Ok(cfg) => {
                    println!(
                        "added {} source `{}`{}; `sunward serve` runs it",
                        cfg.kind.as_str(),
                        cfg.name,
                        if cfg.kind == connectors::Kind::Webhook {
                            format!(" (POST /api/v1/sources/{}/events, signed)", cfg.name)
                        } else {
                            format!(" every {} s", cfg.interval_ms as f64 / 1000.0)
                        }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => fail(e.to_string()),
            }
        }
        SourceCmd::List { db, json } => {
            let path = db.target();
            Store::open(&path).await?;
            let registry = connectors::Registry::open(&path).await?;
            let rows =
                connectors::statuses(&registry, &connectors::SecretStore::for_db(&path)).await?;
            if json {
                println!("{}", serde_json::json!({ "sources": rows }));
            } else if rows.is_empty() {
                println!("No sources. Add one with `sunward source add KIND NAME --url URL`.");
            } else {
                for r in rows {
                    let state = r.health["state"].as_str().unwrap_or("unknown");
                    let err = r.health["last_error"]
                        .as_str()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default();
                    let every = match r.kind {
                        connectors::Kind::Webhook => "pushed".to_string(),
                        connectors::Kind::X
                        | connectors::Kind::Mastodon
                        | connectors::Kind::Jetstream => {
                            format!("stall {}s", r.interval_ms as f64 / 1000.0)
                        }
                        _ => format!("every {}s", r.interval_ms as f64 / 1000.0),
                    };
                    println!(
                        "{:<20} {:<9} {:<12} {:<12} {}{}{}",
                        r.name,
                        r.kind.as_str(),
                        state,
                        every,
                        r.url,
                        err,
                        r.cursor
                            .map(|c| format!("  cursor {c}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SourceCmd::Disable { db, name } | SourceCmd::Enable { db, name } => {
            let on = matches!(cmd_kind, "enable");
            let path = db.target();
            Store::open(&path).await?;
            let registry = connectors::Registry::open(&path).await?;
            let Some(mut cfg) = registry.get(&name).await? else {
                eprintln!("error: no source named `{name}`; see `sunward source list`");
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            };
            cfg.enabled = on;
            registry.update(&cfg).await?;
            println!(
                "source `{name}` {}; a running server applies it within {} s",
                if on { "enabled" } else { "disabled" },
                connectors::RECONCILE_EVERY.as_secs()
            );
            Ok(ExitCode::SUCCESS)
        }
        SourceCmd::Rules {
            db,
            name,
            add,
            tag,
            remove,
            clear,
            json,
        } => {
            use connectors::xrules::{self, WantedRule};
            let path = db.target();
            Store::open(&path).await?;
            let registry = connectors::Registry::open(&path).await?;
            let Some(mut cfg) = registry.get(&name).await? else {
                eprintln!("error: no source named `{name}`; see `sunward source list`");
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            };
            if cfg.kind != connectors::Kind::X {
                eprintln!(
                    "error: `{name}` is a {} source; stream rules are for x sources",
                    cfg.kind.as_str()
                );
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            }
            let mut rules = xrules::wanted(&cfg.options);
            let changing = clear || !add.is_empty() || !remove.is_empty();
            if clear {
                rules.clear();
            }
            for r in &remove {
                let before = rules.len();
                rules.retain(|w| w.value.trim() != r.trim());
                if rules.len() == before {
                    eprintln!("error: --remove {r:?}: no such rule on `{name}`; see `sunward source rules {name}`");
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
            }
            for v in add {
                let w = WantedRule {
                    value: v.trim().to_string(),
                    tag: tag.clone(),
                };
                if let Err(e) = xrules::validate(&w) {
                    eprintln!("error: --add: {e}");
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
                if !rules.iter().any(|r| r.value == w.value) {
                    rules.push(w);
                }
            }
            if changing {
                connectors::set_rules_option(&mut cfg, &rules);
                registry.update(&cfg).await?;
            }
            if json {
                println!("{}", serde_json::json!({ "name": name, "rules": rules }));
            } else {
                if rules.is_empty() {
                    println!("`{name}` has no stream rules; add one with --add RULE");
                }
                for r in &rules {
                    println!("{:<60} {}", r.value, r.x_tag());
                }
                if changing {
                    eprintln!(
                        "saved; a running server syncs them with X within {} s",
                        connectors::RECONCILE_EVERY.as_secs()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SourceCmd::Remove { db, name } => {
            let path = db.target();
            Store::open(&path).await?;
            if connectors::remove_source(&path, &name).await? {
                println!(
                    "removed source `{name}`, its cursor and secrets; its stored mentions stay"
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("error: no source named `{name}`; see `sunward source list`");
                Ok(ExitCode::from(EXIT_UNUSABLE))
            }
        }
    }
}

fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}

/// Exit code for input that cannot be used at all (missing file, unknown format).
const EXIT_UNUSABLE: u8 = 2;

async fn ingest(
    db: sunward::store::DbTarget,
    format: &str,
    json: bool,
    config: Option<PathBuf>,
    files: Vec<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let format: Option<Format> = match format {
        "auto" => None,
        f => match f.parse() {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            }
        },
    };
    for f in &files {
        if !f.is_file() {
            eprintln!(
                "error: {} does not exist or is not a file; nothing was ingested",
                f.display()
            );
            return Ok(ExitCode::from(EXIT_UNUSABLE));
        }
    }
    let config = Config::load(config.as_deref())?;
    let store = Store::open(&db).await?;
    // Crisis detection runs on what is ingested, on event time (src/alerts).
    let alerts_cfg = sunward::alerts::AlertsConfig::load(None)?;
    let (detect, _) =
        sunward::alerts::pipeline::start_for(&store, None, Clock::System, alerts_cfg).await?;
    let ingestor = Ingestor::new(
        store,
        Arc::new(Enricher::new(config.query_set())),
        None,
        Clock::System,
    )
    .with_detect(detect.clone());
    let mut total = Report::default();
    let mut code = ExitCode::SUCCESS;
    let several = files.len() > 1;
    for file in &files {
        let bar = progress_bar(file);
        let started = std::time::Instant::now();
        let mut on_progress = |r: &Report| {
            if let Some(b) = &bar {
                b.set_message(format!(
                    "{} stored, {} duplicates, {} rejected",
                    r.stored, r.duplicates, r.rejected
                ));
                b.set_position(r.read);
            }
        };
        match ingestor.ingest_path(file, format, &mut on_progress).await {
            Ok((fmt, r)) => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                let secs = started.elapsed().as_secs_f64();
                if json {
                    if several {
                        let mut v = serde_json::to_value(&r)?;
                        v["file"] = serde_json::Value::String(file.display().to_string());
                        v["format"] = serde_json::Value::String(fmt.name().to_string());
                        println!("{v}");
                    }
                } else {
                    print_human(file, fmt, &r, secs);
                }
                total.add(&r);
            }
            Err(IngestError::Source(e)) => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                eprintln!("error: {e}");
                code = ExitCode::from(EXIT_UNUSABLE);
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(d) = detect.flush(None).await {
        if d.signals > 0 {
            eprintln!(
                "crisis detection fired {} signals; see `sunward alerts list`",
                d.signals
            );
        }
    }
    if json {
        println!("{}", serde_json::to_string(&total)?);
    }
    let _ = std::io::stdout().flush();
    Ok(code)
}

fn print_human(file: &std::path::Path, fmt: Format, r: &Report, secs: f64) {
    println!(
        "{} ({}): read {}, stored {}, duplicates {}, rejected {}, deleted {}, skipped {} in {:.2}s",
        file.display(),
        fmt.name(),
        r.read,
        r.stored,
        r.duplicates,
        r.rejected,
        r.deleted,
        r.skipped,
        secs
    );
    for (reason, n) in &r.reasons {
        println!("  rejected {n} x {reason}");
    }
    for (kind, n) in &r.skipped_kinds {
        println!("  skipped {n} x {kind}");
    }
    if r.rejected > 0 {
        println!("  see `sunward rejects` for each rejected line and why");
    }
}

fn progress_bar(file: &std::path::Path) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {prefix} {pos} records ({per_sec}) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_prefix(file.display().to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}
