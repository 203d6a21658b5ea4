//! Agents' sentiment corrections: relabel the mention, learn at once, store who and when;
//! model stats (held-back accuracy against the default engine); the `sentiment.*` API.
//!
//! Commands: `sentiment.correct` (Work), `sentiment.model` (Read), `sentiment.reset` and
//! `sentiment.import` (Admin), `sentiment.export` (Read).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::learn::Learner;
use super::sentiment::Analyzer;
use crate::api::{ApiError, App};
use crate::auth::Principal;
use crate::model::Label;
use crate::store::{ModelOrigin, Store, StoreError, HOLD_BACK_EVERY};

/// How many held-back corrections (newest) the accuracy figures use.
const MEASURE_LIMIT: i64 = 5000;

#[derive(Debug, Clone, Serialize)]
pub struct Corrected {
    pub mention_id: i64,
    pub correction_id: i64,
    pub old_label: Label,
    pub label: Label,
    /// Held back to measure the model: stored and applied to the mention, not learned from.
    pub held_back: bool,
    /// The model version stored after learning (None when held back).
    pub version: Option<i64>,
    pub learned: u64,
}

/// Applies one correction: the mention's label changes (rollups follow), the correction is
/// stored with who/when, and unless it is held back the model learns from it and a new
/// version is stored.
pub async fn apply(
    store: &Store,
    learner: &mut Learner,
    analyzer: &Analyzer,
    mention_id: i64,
    label: Label,
    by: &str,
    now_ms: i64,
) -> Result<Corrected, StoreError> {
    let score = match label {
        Label::Negative => -0.5,
        Label::Neutral => 0.0,
        Label::Positive => 0.5,
    };
    let Some(text) = store.mention_label(mention_id).await?.map(|m| m.text) else {
        return Err(StoreError::Sql(sqlx::Error::RowNotFound));
    };
    let Some((cid, held_back, old)) = store
        .correction_add(mention_id, label, score, by, now_ms)
        .await?
    else {
        return Err(StoreError::Sql(sqlx::Error::RowNotFound));
    };
    let mut version = None;
    if !held_back {
        learner.learn(analyzer, &text, label);
        version = Some(
            store
                .model_save(learner, ModelOrigin::Correct, Some(cid), now_ms)
                .await?,
        );
    }
    Ok(Corrected {
        mention_id,
        correction_id: cid,
        old_label: old,
        label,
        held_back,
        version,
        learned: learner.learned,
    })
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelStats {
    /// Current model version (0: none stored yet).
    pub version: i64,
    pub origin: String,
    pub updated_at: i64,
    pub learned: u64,
    pub corrections: i64,
    pub held_back: i64,
    pub hold_back_every: i64,
    /// Share of held-back corrections the model (blended) gets right.
    pub model_accuracy: Option<f64>,
    /// Share of held-back corrections the default engine gets right.
    pub engine_accuracy: Option<f64>,
    /// How many held-back corrections the accuracies are measured on.
    pub measured_on: usize,
}

/// Version, counts and held-back accuracy of the stored model against the default engine.
pub async fn stats(store: &Store, analyzer: &Analyzer) -> Result<ModelStats, StoreError> {
    let learner = store.model_load().await?;
    stats_with(store, analyzer, learner.as_ref()).await
}

async fn stats_with(
    store: &Store,
    analyzer: &Analyzer,
    learner: Option<&Learner>,
) -> Result<ModelStats, StoreError> {
    let info = store.model_info().await?.unwrap_or_default();
    let (corrections, held_back) = store.correction_counts().await?;
    let slice = store.corrections_held_back(MEASURE_LIMIT).await?;
    let (mut m_ok, mut e_ok) = (0usize, 0usize);
    for c in &slice {
        let e = analyzer.analyze(&c.text).label;
        e_ok += (e == c.label) as usize;
        let m = match learner {
            Some(l) => l.predict(analyzer, &c.text).label,
            None => e,
        };
        m_ok += (m == c.label) as usize;
    }
    let n = slice.len();
    let share = |k: usize| (n > 0).then(|| k as f64 / n as f64);
    Ok(ModelStats {
        version: info.version,
        origin: if info.origin.is_empty() {
            "none".into()
        } else {
            info.origin
        },
        updated_at: info.created_at,
        learned: learner.map_or(0, |l| l.learned),
        corrections,
        held_back,
        hold_back_every: HOLD_BACK_EVERY,
        model_accuracy: share(m_ok),
        engine_accuracy: share(e_ok),
        measured_on: n,
    })
}

#[derive(Deserialize)]
struct CorrectArgs {
    /// Store id of the mention (`id` in stream rows)...
    #[serde(default)]
    mention_id: Option<i64>,
    /// ...or its source identity.
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    source_id: Option<String>,
    label: String,
}

#[derive(Deserialize)]
struct ImportArgs {
    /// The model file's bytes, hex-encoded.
    model_hex: String,
}

fn bad(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadArgs(e.to_string())
}

/// The `sentiment.*` commands; None for commands that are not ours.
pub async fn dispatch(
    app: &App,
    who: &Principal,
    command: &str,
    args: Value,
) -> Option<Result<Value, ApiError>> {
    let r = match command {
        "sentiment.correct" => correct(app, who, args).await,
        "sentiment.model" => model(app).await,
        "sentiment.reset" => reset(app).await,
        "sentiment.import" => import(app, args).await,
        "sentiment.export" => export(app).await,
        _ => return None,
    };
    Some(r)
}

async fn correct(app: &App, who: &Principal, args: Value) -> Result<Value, ApiError> {
    let a: CorrectArgs = serde_json::from_value(args).map_err(|e| {
        bad(format!(
            "{e}; expected {{\"mention_id\": 123, \"label\": \"negative\"}} or {{\"source\", \"source_id\", \"label\"}}"
        ))
    })?;
    let label = Label::parse(&a.label)
        .ok_or_else(|| bad("`label` must be negative, neutral or positive"))?;
    let store = app.store();
    let id = match (a.mention_id, a.source.as_deref(), a.source_id.as_deref()) {
        (Some(id), _, _) => id,
        (None, Some(s), Some(sid)) => store
            .mention_id(s, sid)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no stored mention {s}/{sid}")))?,
        _ => return Err(bad("pass `mention_id`, or `source` and `source_id`")),
    };
    if store.mention_label(id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "no stored mention with id {id}"
        )));
    }
    let enricher = &app.ingestor().enricher;
    let now = app.clock().now_ms();
    // One correction at a time: each learns on top of the model the previous one produced.
    let _guard = enricher.correct_lock.lock().await;
    let mut learner = enricher.model_snapshot().unwrap_or_default();
    let out = apply(
        store,
        &mut learner,
        enricher.analyzer(),
        id,
        label,
        &who.name,
        now,
    )
    .await?;
    if !out.held_back {
        enricher.set_model(Some(learner));
    }
    serde_json::to_value(out).map_err(|e| ApiError::Internal(e.to_string()))
}

async fn model(app: &App) -> Result<Value, ApiError> {
    let enricher = &app.ingestor().enricher;
    let learner = enricher.model_snapshot();
    let s = stats_with(app.store(), enricher.analyzer(), learner.as_ref()).await?;
    let recent = app.store().corrections_recent(20).await?;
    let mut v = serde_json::to_value(s).map_err(|e| ApiError::Internal(e.to_string()))?;
    v["recent"] = serde_json::to_value(recent).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(v)
}

async fn reset(app: &App) -> Result<Value, ApiError> {
    let now = app.clock().now_ms();
    let v = app
        .store()
        .model_save(&Learner::new(), ModelOrigin::Reset, None, now)
        .await?;
    app.ingestor().enricher.set_model(None);
    Ok(json!({ "version": v, "learned": 0 }))
}

async fn import(app: &App, args: Value) -> Result<Value, ApiError> {
    let a: ImportArgs = serde_json::from_value(args)
        .map_err(|e| bad(format!("{e}; expected {{\"model_hex\": \"...\"}}")))?;
    let bytes = hex::decode(a.model_hex.trim()).map_err(|e| bad(format!("model_hex: {e}")))?;
    let l = Learner::from_bytes(&bytes).map_err(bad)?;
    let now = app.clock().now_ms();
    let v = app
        .store()
        .model_save(&l, ModelOrigin::Import, None, now)
        .await?;
    let learned = l.learned;
    app.ingestor().enricher.set_model(Some(l));
    Ok(json!({ "version": v, "learned": learned }))
}

async fn export(app: &App) -> Result<Value, ApiError> {
    let l = app.ingestor().enricher.model_snapshot().unwrap_or_default();
    Ok(json!({ "learned": l.learned, "model_hex": hex::encode(l.to_bytes()) }))
}
