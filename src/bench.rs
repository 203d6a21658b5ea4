//! `sunward bench`: measures the speed targets end to end, on this machine, with the real code
//! paths (the same ingest the CLI runs, the same HTTP server the walls use).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;

use crate::api::{App, AppOptions};
use crate::clock::Clock;
use crate::config::Config;
use crate::demo::Generator;
use crate::enrich::sentiment::Analyzer;
use crate::enrich::Enricher;
use crate::ingest::Ingestor;
use crate::store::Store;

#[derive(clap::Subcommand, Debug, Clone)]
pub enum BenchCmd {
    /// Ingest an NDJSON file end to end (parse + enrich + store) into a fresh SQLite database
    Ingest {
        /// Lines in the generated file
        #[arg(long, default_value_t = 1_000_000)]
        lines: usize,
        /// Use this NDJSON file instead of generating one
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Sentiment texts per second on one core
    Sentiment {
        #[arg(long, default_value_t = 1_000_000)]
        texts: usize,
    },
    /// Sentiment texts per second with learning (predict, then learn every text), one core
    SentimentLearn {
        #[arg(long, default_value_t = 300_000)]
        texts: usize,
    },
    /// Accuracy, macro-F1 and per-class recall on the labeled sets in ../shared/data: plain
    /// VADER, the default engine, and the learning engine in a predict-then-learn stream
    SentimentEval {
        /// Folder with tweeteval_sentiment/, sentiment140/, tweet_sentiment_extraction/
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// Rows the learner sees before its predictions are counted
        #[arg(long, default_value_t = 2000)]
        warmup: usize,
        /// Also evaluate this NDJSON file of {"text","label"} lines (e.g. your own labels)
        #[arg(long)]
        extra: Vec<PathBuf>,
    },
    /// Crisis detection quality on real background with injected bursts, and its ingest overhead
    Detect(crate::bench_detect::DetectArgs),
    /// Latency of events between two sites on one PostgreSQL database: a mention stored by
    /// one Sunward reaches the other's event bus (LISTEN/NOTIFY); target 2 s
    Sites {
        /// A PostgreSQL database both sites use (`postgres://...`); the bench adds rows to it
        #[arg(long)]
        db: String,
        #[arg(long, default_value_t = 200)]
        count: usize,
    },
    /// Latency from `POST /api/v1/mentions` to the SSE event, over loopback
    Sse {
        #[arg(long, default_value_t = 300)]
        count: usize,
    },
}

pub async fn run(cmd: BenchCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCmd::Ingest { lines, file } => bench_ingest(lines, file).await,
        BenchCmd::Sentiment { texts } => bench_sentiment(texts),
        BenchCmd::SentimentLearn { texts } => bench_sentiment_learn(texts),
        BenchCmd::SentimentEval {
            data,
            warmup,
            extra,
        } => bench_sentiment_eval(&data, warmup, &extra),
        BenchCmd::Sse { count } => bench_sse(count).await,
        BenchCmd::Sites { db, count } => bench_sites(&db, count).await,
        BenchCmd::Detect(a) => crate::bench_detect::run(a).await,
    }
}

/// Demo mentions as Sunward NDJSON, event times spread over the last `count / 50` minutes.
pub fn write_demo_ndjson(out: &Path, count: usize, seed: u64) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut sink: Box<dyn Write> = if out == Path::new("-") {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(BufWriter::new(std::fs::File::create(out).map_err(|e| {
            anyhow::anyhow!("cannot write {}: {e}", out.display())
        })?))
    };
    let mut written = 0;
    let mut generator = Generator::new(seed, now);
    generator.peak_per_minute = 3000.0;
    let mut from = now - 30 * 24 * 3_600_000;
    while written < count {
        let to = from + 60_000;
        for m in generator.range(from, to) {
            if written == count {
                break;
            }
            let line = json!({
                "source": m.source, "id": m.source_id, "created_at": rfc3339(m.created_at), "text": m.text,
                "channel": m.channel, "author": m.author, "lang": m.lang, "inbound": m.inbound,
            });
            writeln!(sink, "{line}")?;
            written += 1;
        }
        from = to;
        if from >= now {
            from = now - 30 * 24 * 3_600_000;
        }
    }
    sink.flush()?;
    Ok(())
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn bench_ingest(lines: usize, file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let file = match file {
        Some(f) => f,
        None => {
            let f = dir.path().join("bench.ndjson");
            let t = Instant::now();
            write_demo_ndjson(&f, lines, 7)?;
            eprintln!(
                "generated {lines} lines in {:.1}s",
                t.elapsed().as_secs_f64()
            );
            f
        }
    };
    let store = Store::open_sqlite(&dir.path().join("bench.db")).await?;
    let config = Config::load(None)?;
    let ingestor = Ingestor::new(
        store,
        Arc::new(Enricher::new(config.query_set())),
        None,
        Clock::System,
    )
    .without_triage();
    let t = Instant::now();
    let (_, first) = ingestor.ingest_path(&file, None, &mut |_| {}).await?;
    let secs = t.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let (_, again) = ingestor.ingest_path(&file, None, &mut |_| {}).await?;
    let secs2 = t2.elapsed().as_secs_f64();
    let rate = first.read as f64 / secs;
    println!(
        "{}",
        json!({
            "bench": "ingest", "format": "ndjson", "lines": first.read, "stored": first.stored,
            "seconds": round(secs), "mentions_per_sec": rate.round(),
            "reingest_stored": again.stored, "reingest_duplicates": again.duplicates,
            "reingest_seconds": round(secs2), "target_mentions_per_sec": 100_000,
        })
    );
    Ok(ExitCode::SUCCESS)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Texts varied enough that no cache flatters the figure: demo templates with mixed words.
fn bench_texts(n: usize) -> Vec<String> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut g = Generator::new(11, now);
    g.peak_per_minute = 100_000.0;
    let words = [
        "honestly", "sooo", "NOT", "really", "never", "again", "thanks", "😡", "🙂", "#fail",
        "lol", "!!!", "but", "kind of",
    ];
    let mut out = Vec::with_capacity(n);
    let mut i = 0usize;
    while out.len() < n {
        for m in g.range(now, now + 60_000) {
            let w = words[i % words.len()];
            let v = words[(i / 7) % words.len()];
            out.push(format!("{w} {} {v} #{i}", m.text));
            i += 1;
            if out.len() == n {
                break;
            }
        }
    }
    out
}

fn bench_sentiment(texts: usize) -> anyhow::Result<ExitCode> {
    let data = bench_texts(texts.clamp(1000, 10_000_000).min(200_000));
    let analyzer = Analyzer::new();
    // Warm up, then time whole passes until `texts` have been scored.
    let mut sink = 0f32;
    for t in data.iter().take(10_000) {
        sink += analyzer.analyze(t).score;
    }
    let t = Instant::now();
    let mut done = 0;
    while done < texts {
        for s in &data {
            sink += analyzer.analyze(s).score;
            done += 1;
            if done == texts {
                break;
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let avg_len = data.iter().map(|s| s.len()).sum::<usize>() as f64 / data.len() as f64;
    println!(
        "{}",
        json!({"bench": "sentiment", "texts": done, "avg_bytes": avg_len.round(), "seconds": round(secs),
               "texts_per_sec": (done as f64 / secs).round(), "threads": 1, "target_texts_per_sec": 200_000,
               "checksum": sink})
    );
    Ok(ExitCode::SUCCESS)
}

fn bench_sentiment_learn(texts: usize) -> anyhow::Result<ExitCode> {
    use crate::enrich::learn::Learner;
    use crate::model::Label;
    let data = bench_texts(texts.clamp(1000, 10_000_000).min(200_000));
    let analyzer = Analyzer::new();
    let mut learner = Learner::new();
    // Gold labels: the engine's own label, flipped on every 3rd text so the model has work to do.
    let labels: Vec<Label> = data
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let l = analyzer.analyze(t).label;
            if i % 3 == 0 {
                crate::enrich::learn::label_of((crate::enrich::learn::class(l) + 1) % 3)
            } else {
                l
            }
        })
        .collect();
    let mut sink = 0f32;
    let t = Instant::now();
    let mut done = 0;
    while done < texts {
        for (s, &l) in data.iter().zip(&labels) {
            sink += learner.predict_learn(&analyzer, s, l).score;
            done += 1;
            if done == texts {
                break;
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let mut done2 = 0;
    while done2 < texts {
        for s in &data {
            sink += learner.predict(&analyzer, s).score;
            done2 += 1;
            if done2 == texts {
                break;
            }
        }
    }
    let secs2 = t2.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"bench": "sentiment-learn", "texts": done, "seconds": round(secs),
               "predict_learn_texts_per_sec": (done as f64 / secs).round(),
               "blended_predict_texts_per_sec": (done2 as f64 / secs2).round(),
               "threads": 1, "target_texts_per_sec": 100_000, "checksum": sink})
    );
    Ok(ExitCode::SUCCESS)
}

fn bench_sentiment_eval(data: &Path, warmup: usize, extra: &[PathBuf]) -> anyhow::Result<ExitCode> {
    use crate::enrich::eval;
    if !data.is_dir() {
        eprintln!(
            "error: {} not found; pass --data DIR (the folder with tweeteval_sentiment/, sentiment140/, tweet_sentiment_extraction/)",
            data.display()
        );
        return Ok(ExitCode::from(crate::cli::EXIT_UNUSABLE));
    }
    let vader = Analyzer::base_only();
    let ours = Analyzer::new();
    let mut sets: Vec<(String, Option<eval::Rows>)> = vec![
        (
            "tweet_sentiment_extraction".into(),
            eval::tweet_sentiment_extraction(data),
        ),
        ("tweeteval test".into(), eval::tweeteval(data, "test")),
        ("tweeteval val".into(), eval::tweeteval(data, "val")),
        ("sentiment140 manual".into(), eval::sentiment140(data)),
        (
            "twcs airline care, hand-labeled (ours)".into(),
            eval::twcs_care(data, "airline"),
        ),
        (
            "twcs all brands, hand-labeled (ours, tuned on)".into(),
            eval::twcs_care(data, "brands"),
        ),
        (
            "@SpotifyCares, hand-labeled (ours)".into(),
            eval::twcs_care(data, "spotify"),
        ),
        (
            "all care tweets hand-labeled (ours), one mixed stream".into(),
            eval::twcs_care_all(data),
        ),
    ];
    // Care traffic skews negative; these resamples show the engines on that class mix.
    let mixed: Vec<(String, Option<eval::Rows>)> = sets
        .iter()
        .filter(|(n, _)| {
            n == "tweet_sentiment_extraction"
                || n == "tweeteval test"
                || n.starts_with("twcs airline")
        })
        .map(|(n, r)| {
            let rows = r.as_deref().map(eval::care_mix);
            (format!("{n}, care class mix 63/21/16"), rows)
        })
        .collect();
    sets.extend(mixed);
    for p in extra {
        let text = std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
        sets.push((p.display().to_string(), Some(eval::ndjson_rows(&text))));
    }
    for (name, rows) in sets {
        let Some(rows) = rows else {
            println!("{}", json!({"set": name, "skipped": "file missing"}));
            continue;
        };
        let t = Instant::now();
        // Small sets: count the second half, so there is something to measure.
        let counted_after = warmup.min(rows.len() / 2);
        let results = [
            ("vader", eval::evaluate(&vader, &rows)),
            ("default", eval::evaluate(&ours, &rows)),
            (
                "learning (prequential)",
                eval::prequential(&ours, &rows, counted_after),
            ),
        ];
        for (engine, m) in results {
            println!(
                "{}",
                json!({"set": name, "engine": engine, "n": m.n, "accuracy": round(m.accuracy),
                       "macro_f1": round(m.macro_f1), "recall_negative": round(m.recall[0]),
                       "recall_neutral": round(m.recall[1]), "recall_positive": round(m.recall[2]),
                       "confusion": m.confusion,
                       "counted_after": if engine.starts_with("learning") { counted_after } else { 0 }})
            );
        }
        tracing::debug!(set = %name, secs = t.elapsed().as_secs_f64(), "evaluated");
    }
    Ok(ExitCode::SUCCESS)
}

async fn bench_sites(db: &str, count: usize) -> anyhow::Result<ExitCode> {
    let target = crate::store::DbTarget::parse(db);
    if !target.is_postgres() {
        eprintln!("error: --db must be a postgres:// URL: the bench measures two sites sharing one PostgreSQL database");
        return Ok(ExitCode::from(2));
    }
    let start = || {
        App::start(AppOptions {
            db: Some(target.clone()),
            demo: false,
            config: None,
            clock: None,
            wall_profile: None,
        })
    };
    let austin = start().await?;
    let singapore = start().await?;
    let mut rx = singapore.subscribe();
    // Let both relays connect their listeners before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let run = format!("{:08x}", rand::random::<u32>());
    let mut lat = Vec::with_capacity(count);
    for i in 0..count {
        let id = format!("relay-{run}-{i}");
        let m = crate::model::Mention {
            source: "bench".into(),
            source_id: id.clone(),
            channel: "x".into(),
            created_at: chrono::Utc::now().timestamp_millis(),
            text: "cross-site latency probe".into(),
            ..Default::default()
        };
        let t = Instant::now();
        austin.ingestor().ingest_mentions("bench", vec![m]).await?;
        let arrived = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match rx.recv().await {
                    Ok(crate::events::Event::Mentions { latest, .. })
                        if latest.iter().any(|s| s.mention.source_id == id) =>
                    {
                        return Some(Instant::now());
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return None,
                }
            }
        })
        .await;
        match arrived {
            Ok(Some(at)) => lat.push(at.duration_since(t).as_secs_f64() * 1000.0),
            _ => {
                anyhow::bail!("mention {id} stored at one site never reached the other within 5 s")
            }
        }
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{}",
        json!({"bench": "sites", "count": lat.len(), "p50_ms": round(pct(0.5)), "p99_ms": round(pct(0.99)),
               "max_ms": round(pct(1.0)), "target_ms": 2000,
               "note": "store at one site (commit) to the event on the other site's bus"})
    );
    Ok(ExitCode::SUCCESS)
}

async fn bench_sse(count: usize) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let app = App::start(AppOptions {
        db: Some(dir.path().join("sse.db").into()),
        demo: false,
        config: None,
        clock: None,
        wall_profile: None,
    })
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let token = "bench-token";
    let router = crate::http::router(app, token);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let base = format!("http://{addr}/api/v1");
    let client = reqwest::Client::new();
    let res = client
        .get(format!("{base}/events"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    let mut body = res.bytes_stream();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, String)>();
    tokio::spawn(async move {
        let mut buf = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                if frame.contains("event: mentions") {
                    let _ = tx.send((Instant::now(), frame));
                }
            }
        }
    });
    let mut lat = Vec::with_capacity(count);
    let now = chrono::Utc::now();
    for i in 0..count {
        let id = format!("sse-{i}");
        let line = json!({"source": "bench", "id": id, "created_at": now.to_rfc3339(), "text": "latency probe", "channel": "x"});
        let t = Instant::now();
        client
            .post(format!("{base}/mentions"))
            .bearer_auth(token)
            .header("content-type", "application/x-ndjson")
            .body(format!("{line}\n"))
            .send()
            .await?
            .error_for_status()?;
        let needle = format!("\"source_id\":\"{id}\"");
        let arrived = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some((at, frame)) = rx.recv().await {
                if frame.contains(&needle) {
                    return Some(at);
                }
            }
            None
        })
        .await;
        match arrived {
            Ok(Some(at)) => lat.push(at.duration_since(t).as_secs_f64() * 1000.0),
            _ => anyhow::bail!("mention {id} produced no SSE event within 5 s"),
        }
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{}",
        json!({"bench": "sse", "count": lat.len(), "p50_ms": round(pct(0.5)), "p99_ms": round(pct(0.99)),
               "max_ms": round(pct(1.0)), "target_p99_ms": 1000})
    );
    Ok(ExitCode::SUCCESS)
}
