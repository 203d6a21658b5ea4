//! The ingest pipeline: parse -> enrich -> batch -> store, bounded so a fast reader cannot
//! outrun the writer (backpressure), with a report of everything that happened.
//!
//! A batch is counted in the report only after its transaction committed, so whatever a
//! report (or the progress bar) says was stored survives a `kill -9`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::enrich::Enricher;
use crate::events::{Bus, Event};
use crate::sources::{self, Format, Item, Located};
use crate::store::{Batch, NewMention, NewReject, Store, StoreError};

/// Items per transaction. Large enough to amortize the commit, small enough that a live
/// event follows a stored mention well within a second.
pub const BATCH_ITEMS: usize = 5_000;
/// Batches in flight between reader and writer.
const QUEUE_BATCHES: usize = 4;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub deleted: u64,
    pub skipped: u64,
    /// Rejections by reason.
    pub reasons: BTreeMap<String, u64>,
    /// Valid records that are not mentions (likes, follows...), by kind.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped_kinds: BTreeMap<String, u64>,
}

impl Report {
    pub fn add(&mut self, o: &Report) {
        self.read += o.read;
        self.stored += o.stored;
        self.duplicates += o.duplicates;
        self.rejected += o.rejected;
        self.deleted += o.deleted;
        self.skipped += o.skipped;
        for (k, v) in &o.reasons {
            *self.reasons.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.skipped_kinds {
            *self.skipped_kinds.entry(k.clone()).or_default() += v;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Source(#[from] sources::SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the reader thread stopped unexpectedly: {0}")]
    Reader(String),
}

/// A batch plus the counts of what never reaches SQL (rejects, skips, deletes requested).
struct Pending {
    batch: Batch,
    counts: Report,
}

/// Turns parsed items into batches. Lives on the reader thread.
struct Batcher {
    origin: String,
    enricher: Arc<Enricher>,
    current: Pending,
    tx: mpsc::Sender<Pending>,
    closed: bool,
    /// Rides with the last batch (live sources): committed together with what it covers.
    cursor: Option<(String, String)>,
}

impl Batcher {
    fn new(origin: String, enricher: Arc<Enricher>, tx: mpsc::Sender<Pending>) -> Self {
        let current = Self::empty(&origin);
        Batcher {
            origin,
            enricher,
            current,
            tx,
            closed: false,
            cursor: None,
        }
    }

    fn empty(origin: &str) -> Pending {
        Pending {
            batch: Batch {
                origin: origin.to_string(),
                ..Batch::default()
            },
            counts: Report::default(),
        }
    }

    fn push(&mut self, loc: Located) {
        let p = &mut self.current;
        p.counts.read += 1;
        match loc.item {
            Item::Mention(m) => {
                let enrichment = self.enricher.enrich(&m);
                p.batch.mentions.push(NewMention {
                    mention: m,
                    enrichment,
                });
            }
            Item::Delete { source, source_id } => p.batch.deletes.push((source, source_id)),
            Item::Skipped { kind } => {
                p.counts.skipped += 1;
                *p.counts.skipped_kinds.entry(kind).or_default() += 1;
            }
            Item::Rejected { reason, detail } => {
                p.counts.rejected += 1;
                *p.counts
                    .reasons
                    .entry(reason.as_str().to_string())
                    .or_default() += 1;
                p.batch.rejects.push(NewReject {
                    line: loc.line,
                    reason: reason.as_str(),
                    detail,
                });
            }
        }
        if p.counts.read as usize >= BATCH_ITEMS {
            self.flush();
        }
    }

    /// The last flush: carries the cursor, even in an otherwise empty batch.
    fn finish(&mut self) {
        if let Some(c) = self.cursor.take() {
            self.current.batch.cursor = Some(c);
        }
        self.flush();
    }

    fn flush(&mut self) {
        if (self.current.counts.read == 0 && self.current.batch.cursor.is_none()) || self.closed {
            return;
        }
        let full = std::mem::replace(&mut self.current, Self::empty(&self.origin));
        // The writer has gone only if it failed; its error is what the caller reports.
        if self.tx.blocking_send(full).is_err() {
            self.closed = true;
        }
    }
}

/// Runs ingest of files and request bodies into one store.
#[derive(Clone)]
pub struct Ingestor {
    pub store: Store,
    pub enricher: Arc<Enricher>,
    pub bus: Option<Bus>,
    pub clock: Clock,
    /// Crisis detection (src/alerts): each stored batch is handed to the detector task.
    pub detect: Option<crate::alerts::pipeline::Feed>,
    /// Care triage (src/care) of what each run stored; off only for the ingest benchmark.
    pub triage: bool,
}

enum Input {
    Path(PathBuf, Option<Format>),
    Bytes(Vec<u8>, Format),
    /// Bytes of a live source, with the cursor to commit with its last batch.
    BytesWithCursor(Vec<u8>, Format, (String, String)),
    Mentions(Vec<crate::model::Mention>),
}

impl Ingestor {
    pub fn new(store: Store, enricher: Arc<Enricher>, bus: Option<Bus>, clock: Clock) -> Self {
        Ingestor {
            store,
            enricher,
            bus,
            clock,
            detect: None,
            triage: true,
        }
    }

    /// No care triage after runs (the ingest benchmark measures the store path alone).
    pub fn without_triage(mut self) -> Self {
        self.triage = false;
        self
    }

    /// Runs crisis detection on every stored batch (see `crate::alerts::pipeline`).
    pub fn with_detect(mut self, feed: crate::alerts::pipeline::Feed) -> Self {
        self.detect = Some(feed);
        self
    }

    /// Ingests one file. `progress` sees the running report after each committed batch.
    pub async fn ingest_path(
        &self,
        path: &Path,
        format: Option<Format>,
        progress: &mut (dyn FnMut(&Report) + Send),
    ) -> Result<(Format, Report), IngestError> {
        let origin = path.display().to_string();
        self.run(origin, Input::Path(path.to_path_buf(), format), progress)
            .await
    }

    /// Ingests a request body (the HTTP API, webhooks).
    pub async fn ingest_bytes(
        &self,
        origin_prefix: &str,
        bytes: Vec<u8>,
        format: Format,
    ) -> Result<Report, IngestError> {
        let origin = format!("{origin_prefix}:{}", self.clock.now_ms());
        let (_, report) = self
            .run(origin, Input::Bytes(bytes, format), &mut |_| {})
            .await?;
        Ok(report)
    }

    /// Ingests a body fetched by a live source (`src/connectors`); `cursor` = `(source, cursor)`
    /// is written in the same transaction as the last batch, so a restart resumes after exactly
    /// what was stored.
    pub async fn ingest_bytes_with_cursor(
        &self,
        origin_prefix: &str,
        bytes: Vec<u8>,
        format: Format,
        cursor: (String, String),
    ) -> Result<Report, IngestError> {
        let origin = format!("{origin_prefix}:{}", self.clock.now_ms());
        let (_, report) = self
            .run(
                origin,
                Input::BytesWithCursor(bytes, format, cursor),
                &mut |_| {},
            )
            .await?;
        Ok(report)
    }

    /// Ingests mentions made in-process (the demo, drills): same enrichment and store path.
    pub async fn ingest_mentions(
        &self,
        origin: &str,
        mentions: Vec<crate::model::Mention>,
    ) -> Result<Report, IngestError> {
        let (_, report) = self
            .run(origin.to_string(), Input::Mentions(mentions), &mut |_| {})
            .await?;
        Ok(report)
    }

    async fn run(
        &self,
        origin: String,
        input: Input,
        progress: &mut (dyn FnMut(&Report) + Send),
    ) -> Result<(Format, Report), IngestError> {
        // In-process generators (demo, drills) tick twice a second: a run row each would be noise.
        let record_run = !matches!(input, Input::Mentions(_));
        let (tx, mut rx) = mpsc::channel::<Pending>(QUEUE_BATCHES);
        let enricher = self.enricher.clone();
        let now = self.clock.now_ms();
        let reader_origin = origin.clone();
        let reader =
            tokio::task::spawn_blocking(move || -> Result<Format, sources::SourceError> {
                let mut batcher = Batcher::new(reader_origin, enricher, tx);
                let format = match input {
                    Input::Path(p, f) => {
                        sources::read_path(&p, f, now, &mut |loc| batcher.push(loc))?
                    }
                    Input::Bytes(b, f) => {
                        sources::read_bytes(&b, f, now, &mut |loc| batcher.push(loc));
                        f
                    }
                    Input::BytesWithCursor(b, f, c) => {
                        batcher.cursor = Some(c);
                        sources::read_bytes(&b, f, now, &mut |loc| batcher.push(loc));
                        f
                    }
                    Input::Mentions(ms) => {
                        for (i, m) in ms.into_iter().enumerate() {
                            batcher.push(Located {
                                line: i as u64 + 1,
                                item: Item::Mention(m),
                            });
                        }
                        Format::Ndjson
                    }
                };
                batcher.finish();
                Ok(format)
            });

        let mut report = Report::default();
        let mut run_id = None;
        let mut write_err = None;
        while let Some(mut p) = rx.recv().await {
            if record_run && run_id.is_none() {
                run_id = Some(self.store.start_run(&origin, "", now).await?);
            }
            match self.store.write_batch(&p.batch, self.clock.now_ms()).await {
                Ok(outcome) => {
                    let mut c = p.counts;
                    c.stored = outcome.stored;
                    c.duplicates = outcome.duplicates;
                    c.deleted = outcome.deleted;
                    // A delete for a post we never stored is still a processed record.
                    let unknown = p.batch.deletes.len() as u64 - outcome.deleted;
                    if unknown > 0 {
                        c.skipped += unknown;
                        *c.skipped_kinds
                            .entry("delete_of_unknown".into())
                            .or_default() += unknown;
                    }
                    report.add(&c);
                    if let (Some(bus), true) = (&self.bus, outcome.stored > 0) {
                        bus.publish(Event::Mentions {
                            count: outcome.stored,
                            latest: outcome.latest,
                        });
                    }
                    progress(&report);
                    // After the commit and off the write lock; a batch that was entirely
                    // duplicates (a re-ingest) is not detected twice.
                    if let (Some(d), true) = (&self.detect, outcome.stored > 0) {
                        d.send(std::mem::take(&mut p.batch.mentions)).await;
                    }
                }
                Err(e) => {
                    write_err = Some(e);
                    break;
                }
            }
        }
        drop(rx);
        let format = reader
            .await
            .map_err(|e| IngestError::Reader(e.to_string()))?;
        if let Some(e) = write_err {
            return Err(e.into());
        }
        let format = format?;
        if let Some(run) = run_id {
            self.store
                .finish_run(run, &report, self.clock.now_ms())
                .await?;
        }
        // Care triage (src/care) of what this run stored; never fails the ingest.
        if self.triage && report.stored > 0 {
            crate::care::after_ingest(&self.store, &self.clock, self.bus.as_ref()).await;
        }
        Ok((format, report))
    }
}
