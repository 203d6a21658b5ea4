//! The HTTP transport of the one API: REST routes, `POST /api/v1/rpc/{command}`, Server-Sent
//! Events, the OpenAPI document and the UI files. Every `/api/v1` call needs the bearer token.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures::{Stream, StreamExt};
use serde_json::{json, Map, Value};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use crate::api::{ApiError, App};
use crate::auth::{token_matches, Principal};
use crate::events::Event;

/// Largest accepted request body (an NDJSON batch of mentions).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

#[derive(Clone)]
struct Ctx {
    app: App,
    token: Arc<str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::UnknownCommand(_) => StatusCode::NOT_FOUND,
            ApiError::BadArgs(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
        }
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// Who holds `token`: the serve token is the admin's, others were issued with `sunward token add`.
async fn principal_of(ctx: &Ctx, token: &str) -> Option<Principal> {
    if token_matches(token, &ctx.token) {
        return Some(Principal::admin());
    }
    match ctx.app.store().token_principal(token).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot look up an API token");
            None
        }
    }
}

async fn require_token(State(ctx): State<Ctx>, mut req: Request, next: Next) -> Response {
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // EventSource cannot send headers: the events stream also accepts ?access_token=.
    // (Inside the nested /api/v1 router the path arrives without its prefix.)
    let query_token = matches!(req.uri().path(), "/events" | "/api/v1/events")
        .then(|| req.uri().query())
        .flatten()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("access_token=")));
    let given = header_token.or(query_token).map(str::to_string);
    let principal = match &given {
        Some(t) => principal_of(&ctx, t).await,
        None => None,
    };
    match principal {
        Some(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        None => {
            let what = if given.is_some() {
                "wrong token"
            } else {
                "missing token"
            };
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
                Json(json!({
                    "error": format!("{what}: send `Authorization: Bearer <token>`; the token is printed by `sunward serve` at start or set with SUNWARD_TOKEN")
                })),
            )
                .into_response()
        }
    }
}

/// Query string pairs as JSON args: numbers where they parse, strings otherwise.
fn query_args(q: Vec<(String, String)>) -> Value {
    let mut m = Map::new();
    for (k, v) in q {
        let val = v
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(v));
        m.insert(k, val);
    }
    Value::Object(m)
}

async fn view(
    ctx: &Ctx,
    who: &Principal,
    command: &str,
    q: Vec<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        ctx.app.dispatch_as(who, command, query_args(q)).await?,
    ))
}

async fn health(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        ctx.app.dispatch_as(&who, "health", Value::Null).await?,
    ))
}

async fn volume(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    view(&ctx, &who, "volume", q).await
}

async fn sentiment(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    view(&ctx, &who, "sentiment", q).await
}

async fn stream(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    view(&ctx, &who, "stream", q).await
}

async fn rejects(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    view(&ctx, &who, "rejects", q).await
}

async fn chart_svg(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let name = name.strip_suffix(".svg").unwrap_or(&name).to_string();
    let mut args = query_args(q);
    if let Some(m) = args.as_object_mut() {
        m.insert("name".into(), Value::String(name));
    }
    let out = ctx.app.dispatch_as(&who, "chart", args).await?;
    let svg = out
        .get("svg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

async fn rpc(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
    Path(command): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::BadArgs(format!("the body must be a JSON object of arguments: {e}"))
        })?
    };
    Ok(Json(ctx.app.dispatch_as(&who, &command, args).await?))
}

async fn post_mentions(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if !crate::auth::allowed(who.role, "ingest") {
        return Err(ApiError::Forbidden(format!(
            "posting mentions needs the admin role; `{}` is {}",
            who.name, who.role
        )));
    }
    let r = ctx.app.ingest_ndjson(body.to_vec()).await?;
    Ok(Json(json!({
        "read": r.read,
        "stored": r.stored,
        "duplicates": r.duplicates,
        "rejected": r.rejected,
        "deleted": r.deleted,
        "reasons": r.reasons,
    })))
}

fn sse_event(e: &Event) -> SseEvent {
    SseEvent::default()
        .event(e.name())
        .json_data(e)
        .unwrap_or_else(|_| {
            SseEvent::default()
                .event("resync")
                .data("{\"type\":\"resync\"}")
        })
}

async fn events(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    // Wall tokens (lobby screens among them) get counts, not the raw posts of `mentions`
    // events: their views re-read through the masking view commands (src/showcase).
    let strip = who.role == crate::auth::Role::Wall;
    let rx = ctx.app.subscribe();
    let now = ctx.app.clock().now_ms();
    let hello = futures::stream::once(async move { Ok(sse_event(&Event::Heartbeat { now })) });
    let live = BroadcastStream::new(rx).map(move |msg| {
        Ok(match msg {
            Ok(Event::Mentions { count, .. }) if strip => sse_event(&Event::Mentions {
                count,
                latest: Vec::new(),
            }),
            Ok(e) => sse_event(&e),
            // A slow client missed events: it must re-read, not trust a partial picture.
            Err(BroadcastStreamRecvError::Lagged(_)) => sse_event(&Event::Resync {}),
        })
    });
    Sse::new(hello.chain(live)).keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
}

async fn sources(
    State(ctx): State<Ctx>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        ctx.app.dispatch_as(&who, "sources", Value::Null).await?,
    ))
}

/// Largest webhook body (src/connectors).
const MAX_WEBHOOK_BYTES: usize = 32 * 1024 * 1024;

/// `POST /api/v1/sources/{name}/events`: authenticated by the source's HMAC signature
/// (src/connectors/webhook.rs), not by the bearer token.
async fn source_events(
    State(ctx): State<Ctx>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let (status, v) = ctx
        .app
        .source_webhook(
            &name,
            h(crate::connectors::webhook::TIMESTAMP_HEADER),
            h(crate::connectors::webhook::SIGNATURE_HEADER),
            body.to_vec(),
        )
        .await;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(v)).into_response()
}

async fn openapi() -> Json<Value> {
    Json(crate::http_openapi::document())
}

async fn no_such_api(uri: axum::http::Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": format!("no API route {}; see /api/v1/openapi.json", uri.path()) })),
    )
        .into_response()
}

/// Where the built UI lives: `$SUNWARD_UI_DIR`, else `ui/dist` beside the working directory or
/// the executable's checkout.
pub fn ui_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SUNWARD_UI_DIR") {
        return Some(PathBuf::from(d));
    }
    let mut candidates = vec![PathBuf::from("ui/dist")];
    if let Ok(exe) = std::env::current_exe() {
        // target/{debug,release}/sunward -> checkout/ui/dist
        if let Some(root) = exe
            .parent()
            .and_then(|p| p.parent())
            .and_then(|p| p.parent())
        {
            candidates.push(root.join("ui/dist"));
        }
    }
    candidates
        .into_iter()
        .find(|p| p.join("index.html").exists())
}

pub fn router(app: App, token: &str) -> Router {
    let ctx = Ctx {
        app,
        token: Arc::from(token),
    };
    let webhooks = Router::new()
        .route("/api/v1/sources/{name}/events", post(source_events))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .with_state(ctx.clone());
    let api = Router::new()
        .route("/health", get(health))
        .route("/sources", get(sources))
        .route("/mentions", post(post_mentions))
        .route("/events", get(events))
        .route("/volume", get(volume))
        .route("/sentiment", get(sentiment))
        .route("/stream", get(stream))
        .route("/rejects", get(rejects))
        .route("/charts/{name}", get(chart_svg))
        .route("/rpc/{command}", post(rpc))
        .route("/openapi.json", get(openapi))
        .fallback(no_such_api)
        .layer(middleware::from_fn_with_state(ctx.clone(), require_token))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(ctx);
    let mut router = Router::new().merge(webhooks).nest("/api/v1", api);
    match ui_dir() {
        Some(dir) => {
            // Remote walls (src/wall): a browser opens /wall/<profile>/<screen>?token=...
            let wall_dir = dir.clone();
            let wall = get(move || remote_wall(wall_dir.clone()));
            router = router
                .route("/wall/{profile}", wall.clone())
                .route("/wall/{profile}/{screen}", wall);
            let index = dir.join("index.html");
            router = router.fallback_service(
                tower_http::services::ServeDir::new(dir)
                    .fallback(tower_http::services::ServeFile::new(index)),
            );
        }
        None => {
            router = router.fallback(|| async {
                (
                    StatusCode::NOT_FOUND,
                    "The Sunward UI is not built: run `npm --prefix ui ci && npm --prefix ui run build`, or set SUNWARD_UI_DIR.",
                )
            });
        }
    }
    router.layer(middleware::from_fn(security_headers))
}

/// The UI page for a remote wall. The build's asset paths are relative (`./assets/...`, so the
/// same files work under tauri://); below /wall/<profile>/ they must point at the root.
async fn remote_wall(dir: PathBuf) -> Response {
    match tokio::fs::read_to_string(dir.join("index.html")).await {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html.replace("=\"./", "=\"/"),
        )
            .into_response(),
        Err(e) => (
            StatusCode::NOT_FOUND,
            format!("The Sunward UI is not readable at {}: {e}; build it with `npm --prefix ui run build` or set SUNWARD_UI_DIR.", dir.display()),
        )
            .into_response(),
    }
}

/// Post text is hostile: even if something slipped through, the page may not run inline or
/// remote script.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h: &mut HeaderMap = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// Binds and serves until ctrl-c.
pub async fn serve(app: App, addr: SocketAddr, token: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}. Is another Sunward running? Pick another port with --listen"))?;
    tracing::info!(%addr, "serving");
    axum::serve(listener, router(app, token))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
