//! `sunward classify`, `sunward model train|reset|export|import|stats`, `sunward correct`:
//! the sentiment engine and its learning model from the command line (docs/sentiment.md).

use std::borrow::Cow;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{print_json, DbArg, EXIT_UNUSABLE};
use crate::enrich::learn::{engine_prediction, Learner, Prediction};
use crate::enrich::sentiment::Analyzer;
use crate::model::Label;
use crate::store::ModelOrigin;

#[derive(Subcommand, Debug)]
pub enum SentimentCmd {
    /// Classify NDJSON lines {"id","text","label"?} from stdin: one {"id","label","score",
    /// "confidence"} line per input on stdout, in order ({"id","error"} for unusable lines)
    Classify {
        /// Predict each line, then learn from its `label` if it has one (prequential)
        #[arg(long)]
        learn: bool,
        /// Start from a model file written by `sunward model export`
        #[arg(long, value_name = "PATH")]
        model: Option<PathBuf>,
        /// Write the model to this file at the end (with --learn)
        #[arg(long, value_name = "PATH")]
        save: Option<PathBuf>,
    },
    /// The learning model stored in the database: train, reset, export, import, stats
    Model {
        #[command(subcommand)]
        what: ModelCmd,
    },
    /// Correct the sentiment of a stored mention (the model learns from it at once)
    Correct {
        #[command(flatten)]
        db: DbArg,
        /// The mention's source (e.g. `x`, `twcs`, `mastodon`)
        source: String,
        /// The mention's id in that source
        id: String,
        /// negative, neutral or positive
        label: String,
        /// Who corrects (recorded with the correction)
        #[arg(long, default_value = "cli")]
        by: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModelCmd {
    /// Learn from a CSV (header with `text` and `label`/`sentiment` columns) or NDJSON
    /// ({"text","label"}) file of labeled texts; stores a new model version
    Train {
        #[command(flatten)]
        db: DbArg,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Forget what the model learned: new mentions get the default engine again
    Reset {
        #[command(flatten)]
        db: DbArg,
    },
    /// Write the current model to a file (for `classify --model` or `model import`)
    Export {
        #[command(flatten)]
        db: DbArg,
        path: PathBuf,
    },
    /// Replace the current model with one from a file
    Import {
        #[command(flatten)]
        db: DbArg,
        path: PathBuf,
    },
    /// Version, counts and held-back accuracy of the model against the default engine
    Stats {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: SentimentCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SentimentCmd::Classify { learn, model, save } => {
            let learner = match model {
                Some(p) => match load_model_file(&p) {
                    Ok(l) => Some(l),
                    Err(e) => {
                        eprintln!("error: --model {}: {e}", p.display());
                        return Ok(ExitCode::from(EXIT_UNUSABLE));
                    }
                },
                None => None,
            };
            let stdin = std::io::stdin();
            let stdout = std::io::stdout();
            let stats = classify(stdin.lock(), stdout.lock(), learner, learn, save.as_deref())?;
            eprintln!(
                "classify: {} lines, {} errors, {} learned",
                stats.lines, stats.errors, stats.learned
            );
            Ok(ExitCode::SUCCESS)
        }
        SentimentCmd::Model { what } => model(what).await,
        SentimentCmd::Correct {
            db,
            source,
            id,
            label,
            by,
            json,
        } => {
            let Some(label) = Label::parse(&label) else {
                eprintln!("error: LABEL must be negative, neutral or positive (got {label:?})");
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            };
            let store = db.open().await?;
            let Some(mention_id) = store.mention_id(&source, &id).await? else {
                eprintln!("error: no stored mention {source}/{id}; check the source and id with `sunward serve` or the stream view");
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            };
            let now = chrono::Utc::now().timestamp_millis();
            let mut learner = store.model_load().await?.unwrap_or_default();
            let out = crate::enrich::correct::apply(
                &store,
                &mut learner,
                Analyzer::shared(),
                mention_id,
                label,
                &by,
                now,
            )
            .await?;
            if json {
                print_json(&out)?;
            } else {
                println!(
                    "{source}/{id}: {} -> {}{}",
                    out.old_label.as_str(),
                    out.label.as_str(),
                    if out.held_back {
                        " (held back to measure the model)"
                    } else {
                        ""
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_model_file(p: &Path) -> anyhow::Result<Learner> {
    let bytes = std::fs::read(p).map_err(|e| anyhow::anyhow!("cannot read the file: {e}"))?;
    Ok(Learner::from_bytes(&bytes)?)
}

async fn model(cmd: ModelCmd) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_millis();
    match cmd {
        ModelCmd::Train { db, file, json } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", file.display());
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
            };
            let (rows, rejected) = match labeled_rows(&text) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
            };
            // Say which rows were dropped and why (the first few), so they can be fixed.
            for why in rejected.iter().take(5) {
                eprintln!("rejected: {}: {why}", file.display());
            }
            if rejected.len() > 5 {
                eprintln!("rejected: ... and {} more rows", rejected.len() - 5);
            }
            let rejected = rejected.len();
            if rows.is_empty() {
                eprintln!(
                    "error: {}: no labeled rows ({rejected} rejected); expected NDJSON {{\"text\",\"label\"}} or a CSV with `text` and `label` columns, labels negative/neutral/positive",
                    file.display()
                );
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            }
            let store = db.open().await?;
            let mut learner = store.model_load().await?.unwrap_or_default();
            let a = Analyzer::shared();
            for (t, l) in &rows {
                learner.learn(a, t, *l);
            }
            let version = store
                .model_save(&learner, ModelOrigin::Train, None, now)
                .await?;
            let out = serde_json::json!({"file": file, "learned": rows.len(), "rejected": rejected,
                                         "version": version, "model_learned_total": learner.learned});
            if json {
                print_json(&out)?;
            } else {
                println!(
                    "learned {} texts ({rejected} rejected); model version {version}, {} texts in total",
                    rows.len(),
                    learner.learned
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelCmd::Reset { db } => {
            let store = db.open().await?;
            let v = store
                .model_save(&Learner::new(), ModelOrigin::Reset, None, now)
                .await?;
            println!("model reset (version {v}): new mentions get the default engine");
            Ok(ExitCode::SUCCESS)
        }
        ModelCmd::Export { db, path } => {
            let store = db.open().await?;
            let Some(l) = store.model_load().await? else {
                eprintln!(
                    "error: no model yet; correct mentions or run `sunward model train FILE` first"
                );
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            };
            std::fs::write(&path, l.to_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            println!("wrote {} ({} texts learned)", path.display(), l.learned);
            Ok(ExitCode::SUCCESS)
        }
        ModelCmd::Import { db, path } => {
            let l = match load_model_file(&path) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
            };
            let store = db.open().await?;
            let v = store.model_save(&l, ModelOrigin::Import, None, now).await?;
            println!(
                "imported {} as model version {v} ({} texts learned)",
                path.display(),
                l.learned
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelCmd::Stats { db, json } => {
            let store = db.open().await?;
            let s = crate::enrich::correct::stats(&store, Analyzer::shared()).await?;
            if json {
                print_json(&s)?;
            } else {
                println!(
                    "model version {} ({}), {} texts learned, {} corrections ({} held back)",
                    s.version, s.origin, s.learned, s.corrections, s.held_back
                );
                match (s.model_accuracy, s.engine_accuracy) {
                    (Some(m), Some(e)) => println!(
                        "held-back accuracy: model {:.3}, default engine {:.3}",
                        m, e
                    ),
                    _ => println!("held-back accuracy: no held-back corrections yet (every 5th correction is held back)"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

const LABEL_HELP: &str = "needs a non-empty text and a label negative/neutral/positive";

/// Labeled texts from NDJSON or CSV; returns the rows and why each rejected row was
/// rejected ("line 7: ...").
pub fn labeled_rows(text: &str) -> anyhow::Result<(crate::enrich::eval::Rows, Vec<String>)> {
    let first = text.trim_start();
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    if first.starts_with('{') {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Option<(String, Label)> = match serde_json::from_str::<serde_json::Value>(line) {
                Ok(v) => (|| {
                    let t = v.get("text")?.as_str()?.to_string();
                    let l = v
                        .get("label")
                        .or_else(|| v.get("sentiment"))?
                        .as_str()
                        .and_then(Label::parse)?;
                    Some((t, l))
                })(),
                Err(e) => {
                    rejected.push(format!("line {}: invalid JSON ({e})", n + 1));
                    continue;
                }
            };
            match v {
                Some(r) if !r.0.trim().is_empty() => rows.push(r),
                _ => rejected.push(format!("line {}: {LABEL_HELP}", n + 1)),
            }
        }
        return Ok((rows, rejected));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr.headers()?.clone();
    let col = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let (Some(tc), Some(lc)) = (
        col(&["text"]),
        col(&["label", "sentiment", "airline_sentiment"]),
    ) else {
        anyhow::bail!(
            "the CSV header needs a `text` column and a `label` (or `sentiment`) column; found {:?}",
            headers.iter().collect::<Vec<_>>()
        );
    };
    for rec in rdr.records() {
        let line = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(0, |p| p.line());
        match rec {
            Ok(r) => match (r.get(tc), r.get(lc).and_then(Label::parse)) {
                (Some(t), Some(l)) if !t.trim().is_empty() => rows.push((t.to_string(), l)),
                _ => rejected.push(format!("line {line}: {LABEL_HELP}")),
            },
            Err(e) => rejected.push(format!("unreadable CSV record: {e}")),
        }
    }
    Ok((rows, rejected))
}

#[derive(Debug, Default)]
pub struct ClassifyStats {
    pub lines: u64,
    pub errors: u64,
    pub learned: u64,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    label: Option<&'a RawValue>,
}

/// The `classify` loop: one output line per input line, in order. Output is flushed whenever
/// no more input is buffered, so a slow producer sees each answer at once and a fast one gets
/// big writes.
pub fn classify<R: Read, W: Write>(
    input: R,
    out: W,
    mut learner: Option<Learner>,
    learn: bool,
    save: Option<&Path>,
) -> anyhow::Result<ClassifyStats> {
    let analyzer = Analyzer::shared();
    let mut input = BufReader::with_capacity(64 * 1024, input);
    if learn && learner.is_none() {
        learner = Some(Learner::new());
    }
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    let mut stats = ClassifyStats::default();
    let mut line = Vec::with_capacity(1024);
    let mut o = String::with_capacity(256);
    loop {
        line.clear();
        let n = input.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        let body = trim_line(&line);
        if body.is_empty() {
            continue; // blank lines are not records
        }
        stats.lines += 1;
        o.clear();
        match classify_line(body, analyzer, learner.as_mut(), learn, &mut o) {
            Ok(learned) => stats.learned += learned as u64,
            Err(()) => stats.errors += 1,
        }
        o.push('\n');
        if let Err(e) = out.write_all(o.as_bytes()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(stats);
            }
            return Err(e.into());
        }
        // Nothing more buffered: the next read may block, so the answers so far go out now.
        if input.buffer().is_empty() {
            match out.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(stats),
                r => r?,
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(stats),
        r => r?,
    }
    if let (Some(path), Some(l)) = (save, learner.as_ref()) {
        std::fs::write(path, l.to_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write the model to {}: {e}", path.display()))?;
    }
    Ok(stats)
}

fn trim_line(l: &[u8]) -> &[u8] {
    let mut e = l.len();
    while e > 0 && (l[e - 1] == b'\n' || l[e - 1] == b'\r') {
        e -= 1;
    }
    let s = if l.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let b = &l[s.min(e)..e];
    let st = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[st..]
}

/// Writes the answer for one line into `o`; Ok(learned?) or Err(()) when it was an error line.
fn classify_line(
    body: &[u8],
    analyzer: &Analyzer,
    learner: Option<&mut Learner>,
    learn: bool,
    o: &mut String,
) -> Result<bool, ()> {
    let id_out = |o: &mut String, id: Option<&RawValue>| {
        o.push_str("{\"id\":");
        o.push_str(id.map_or("null", |r| r.get()));
    };
    let err = |o: &mut String, id: Option<&RawValue>, msg: &str| {
        id_out(o, id);
        o.push_str(",\"error\":");
        o.push_str(&serde_json::to_string(msg).unwrap_or_else(|_| "\"error\"".into()));
        o.push('}');
    };
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(_) => {
            err(o, None, "line is not valid UTF-8");
            return Err(());
        }
    };
    let parsed: Line = match serde_json::from_str(text) {
        Ok(p) => p,
        Err(e) => {
            err(o, None, &format!("invalid JSON: {e}"));
            return Err(());
        }
    };
    let id = parsed.id;
    let t: Cow<str> = match parsed
        .text
        .map(|r| serde_json::from_str::<Cow<str>>(r.get()))
    {
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            err(o, id, "`text` must be a string");
            return Err(());
        }
        None => {
            err(o, id, "missing `text`");
            return Err(());
        }
    };
    let gold = if learn {
        parsed
            .label
            .and_then(|r| serde_json::from_str::<Cow<str>>(r.get()).ok())
            .and_then(|s| Label::parse(&s))
    } else {
        None
    };
    let bad_label = learn && parsed.label.is_some() && gold.is_none();
    let (p, learned): (Prediction, bool) = match (learner, gold) {
        (Some(l), Some(g)) => (l.predict_learn(analyzer, &t, g), true),
        (Some(l), None) => (l.predict(analyzer, &t), false),
        (None, _) => (engine_prediction(analyzer.analyze(&t)), false),
    };
    id_out(o, id);
    use std::fmt::Write as _;
    let _ = write!(
        o,
        ",\"label\":\"{}\",\"score\":{:.4},\"confidence\":{:.4}",
        p.label.as_str(),
        clean(p.score),
        clean(p.confidence)
    );
    if bad_label {
        o.push_str(
            ",\"label_error\":\"`label` must be negative, neutral or positive; not learned\"",
        );
    }
    o.push('}');
    Ok(learned)
}

fn clean(x: f32) -> f32 {
    if x.is_finite() {
        // `-0.0000` reads oddly.
        if x == 0.0 {
            0.0
        } else {
            x
        }
    } else {
        0.0
    }
}
