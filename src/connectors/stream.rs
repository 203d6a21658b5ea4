//! Long-lived streams: X filtered stream (chunked NDJSON) and Mastodon streaming (Server-Sent
//! Events). Lines are batched (up to [`BATCH_LINES`] or a quarter second) into the same ingest
//! path as files, each batch committed with the source's cursor. A stall detector reconnects
//! when no byte (not even a keep-alive) arrived for the source's interval.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::fetch::{self, PollError};
use super::secrets::Secret;
use super::{Health, PollOk, Shared};
use crate::sources::Format;

/// Records per committed batch.
pub const BATCH_LINES: usize = 500;
/// Longest line kept in memory; a longer one breaks the connection (garbage from the server).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// Turns the lines of a stream into records of a [`Format`].
trait Framing: Send {
    /// One line without its line end; returns a record to ingest, if the line completes one.
    fn line(&mut self, line: &[u8]) -> Option<Vec<u8>>;
    /// The cursor a record advances to.
    fn cursor_of(&self, record: &[u8]) -> Option<String>;
}

/// X: one JSON object per line; blank lines are keep-alives.
struct XLines;

impl Framing for XLines {
    fn line(&mut self, line: &[u8]) -> Option<Vec<u8>> {
        (!line.iter().all(u8::is_ascii_whitespace)).then(|| line.to_vec())
    }
    fn cursor_of(&self, record: &[u8]) -> Option<String> {
        let v: Value = serde_json::from_slice(record).ok()?;
        let id = v["data"]["id"].as_str()?;
        Some(json!({ "last_id": id }).to_string())
    }
}

/// Server-Sent Events: `event:` and `data:` fields, dispatched at a blank line; `:` comments
/// are keep-alives. Each event becomes `{"event": NAME, "payload": DATA}` (docs/formats.md).
#[derive(Default)]
struct SseEvents {
    event: Option<String>,
    data: Vec<u8>,
}

impl Framing for SseEvents {
    fn line(&mut self, line: &[u8]) -> Option<Vec<u8>> {
        if line.is_empty() {
            let event = self.event.take();
            let data = std::mem::take(&mut self.data);
            if data.is_empty() && event.is_none() {
                return None;
            }
            let event = event.unwrap_or_else(|| "message".into());
            let text = String::from_utf8_lossy(&data).into_owned();
            // A status is a JSON object; a delete's payload is a bare id.
            let payload = match serde_json::from_str::<Value>(&text) {
                Ok(v @ Value::Object(_)) => v,
                _ => Value::String(text),
            };
            return Some(
                json!({ "event": event, "payload": payload })
                    .to_string()
                    .into_bytes(),
            );
        }
        if line.starts_with(b":") {
            return None;
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            b"data" => {
                if !self.data.is_empty() {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
            }
            _ => {}
        }
        None
    }
    fn cursor_of(&self, record: &[u8]) -> Option<String> {
        let v: Value = serde_json::from_slice(record).ok()?;
        if v["event"] != "update" {
            return None;
        }
        let id = v["payload"]["id"].as_str()?;
        Some(json!({ "last_id": id }).to_string())
    }
}

/// Query parameters X needs for complete mentions, unless the URL sets its own.
const X_PARAMS: [(&str, &str); 3] = [
    (
        "tweet.fields",
        "created_at,author_id,lang,conversation_id,in_reply_to_user_id,referenced_tweets,note_tweet",
    ),
    ("expansions", "author_id"),
    ("user.fields", "username,name,public_metrics,verified,verified_type"),
];

pub(super) async fn run_x(
    shared: &Shared,
    name: &str,
    url: &str,
    token: Option<&Secret>,
    rules: Option<&[super::xrules::WantedRule]>,
    stall: Duration,
) -> Result<PollOk, PollError> {
    let token = token.ok_or_else(|| {
        PollError::content("an x source needs a bearer token: re-add it with --token-env VAR")
    })?;
    // Rules managed from Sunward: X must filter what the center listens for before we connect.
    if let Some(wanted) = rules {
        let r = super::xrules::sync(&shared.client, url, token, wanted).await?;
        if !r.added.is_empty() || !r.deleted.is_empty() {
            tracing::info!(source = name, added = ?r.added, deleted = ?r.deleted, "X stream rules synced");
        }
    }
    let mut u =
        reqwest::Url::parse(url).map_err(|e| PollError::content(format!("bad URL {url}: {e}")))?;
    let have: Vec<String> = u.query_pairs().map(|(k, _)| k.into_owned()).collect();
    for (k, v) in X_PARAMS {
        if !have.iter().any(|h| h == k) {
            u.query_pairs_mut().append_pair(k, v);
        }
    }
    let req = shared.client.get(u).bearer_auth(token.expose());
    run(shared, name, url, req, stall, Format::XV2, XLines).await
}

pub(super) async fn run_mastodon(
    shared: &Shared,
    name: &str,
    url: &str,
    token: Option<&Secret>,
    stall: Duration,
) -> Result<PollOk, PollError> {
    let mut req = shared
        .client
        .get(url)
        .header(reqwest::header::ACCEPT, "text/event-stream");
    if let Some(t) = token {
        req = req.bearer_auth(t.expose());
    }
    run(
        shared,
        name,
        url,
        req,
        stall,
        Format::Mastodon,
        SseEvents::default(),
    )
    .await
}

/// Jetstream resumes `REWIND_US` before its cursor: the service recommends a few seconds of
/// overlap for gapless playback; identity makes the overlap store nothing twice.
pub const JETSTREAM_REWIND_US: i64 = 2_000_000;

pub(super) async fn run_jetstream(
    shared: &Shared,
    name: &str,
    url: &str,
    stall: Duration,
) -> Result<PollOk, PollError> {
    use tokio_tungstenite::tungstenite::Message;

    let key = super::registry::cursor_key(name);
    let resume: Option<i64> = shared
        .ingestor
        .store
        .cursor(&key)
        .await
        .map_err(|e| PollError::new(e.to_string()))?
        .and_then(|c| serde_json::from_str::<Value>(&c).ok())
        .and_then(|v| v["time_us"].as_i64());
    let mut u =
        reqwest::Url::parse(url).map_err(|e| PollError::content(format!("bad URL {url}: {e}")))?;
    let have: Vec<String> = u.query_pairs().map(|(k, _)| k.into_owned()).collect();
    if !have.iter().any(|k| k == "wantedCollections") {
        u.query_pairs_mut()
            .append_pair("wantedCollections", "app.bsky.feed.post");
    }
    if let Some(t) = resume {
        u.query_pairs_mut()
            .append_pair("cursor", &(t - JETSTREAM_REWIND_US).max(0).to_string());
    }
    let (mut ws, _) = tokio::time::timeout(
        stall.max(Duration::from_secs(1)),
        tokio_tungstenite::connect_async(u.as_str()),
    )
    .await
    .map_err(|_| {
        PollError::new(format!(
            "{url} did not complete the WebSocket handshake within {} s",
            stall.as_secs_f64()
        ))
    })?
    .map_err(|e| PollError::new(format!("WebSocket to {url} failed: {e}")))?;
    let now = shared.now_ms();
    shared.update(name, |l| {
        l.last_ok_at = Some(now);
        l.health = Health::Connected { since: now };
    });
    shared.persist_health(name).await;

    let mut out = Out {
        key,
        origin: format!("source:{name}"),
        name,
        format: Format::Jetstream,
        cursor: None,
        batch: Vec::new(),
        lines: 0,
    };
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    let mut last_byte = Instant::now();
    let broken = |message: String| {
        let mut e = PollError::new(message);
        e.after_connect = true;
        e
    };
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    last_byte = Instant::now();
                    let rec = t.as_bytes();
                    if rec.len() > MAX_LINE_BYTES {
                        continue;
                    }
                    if let Some(us) = serde_json::from_slice::<Value>(rec)
                        .ok()
                        .and_then(|v| v["time_us"].as_i64())
                    {
                        out.cursor = Some(json!({ "time_us": us }).to_string());
                    }
                    // One event per message; a newline inside would split it, so escape-free
                    // JSON (as Jetstream sends) is kept on one line.
                    out.batch.extend(rec.iter().map(|b| if *b == b'\n' { b' ' } else { *b }));
                    out.batch.push(b'\n');
                    out.lines += 1;
                    if out.lines >= BATCH_LINES {
                        out.flush(shared).await?;
                    }
                }
                Some(Ok(Message::Close(_))) | None => {
                    out.flush(shared).await?;
                    return Err(broken(format!("{url} closed the WebSocket")));
                }
                Some(Ok(_)) => last_byte = Instant::now(),
                Some(Err(e)) => {
                    out.flush(shared).await?;
                    return Err(broken(format!("the WebSocket to {url} broke: {e}")));
                }
            },
            _ = tick.tick() => {
                out.flush(shared).await?;
                if last_byte.elapsed() > stall {
                    return Err(broken(format!(
                        "stalled: no message from {url} for {} s; reconnecting",
                        stall.as_secs_f64()
                    )));
                }
            }
        }
    }
}

/// Records read but not yet committed, and the cursor they advance to.
struct Out<'a> {
    key: String,
    origin: String,
    name: &'a str,
    format: Format,
    cursor: Option<String>,
    batch: Vec<u8>,
    lines: usize,
}

impl Out<'_> {
    async fn flush(&mut self, shared: &Shared) -> Result<(), PollError> {
        if self.lines == 0 {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.batch);
        self.lines = 0;
        let ing = &shared.ingestor;
        let r = match &self.cursor {
            Some(c) => {
                ing.ingest_bytes_with_cursor(
                    &self.origin,
                    bytes,
                    self.format,
                    (self.key.clone(), c.clone()),
                )
                .await
            }
            None => ing.ingest_bytes(&self.origin, bytes, self.format).await,
        }
        .map_err(|e| PollError::new(format!("storing the stream failed: {e}")))?;
        let t = shared.now_ms();
        shared.update(self.name, |l| {
            l.read += r.read;
            l.stored += r.stored;
            l.last_ok_at = Some(t);
            l.last_poll_at = Some(t);
        });
        Ok(())
    }
}

async fn run(
    shared: &Shared,
    name: &str,
    url: &str,
    req: reqwest::RequestBuilder,
    stall: Duration,
    format: Format,
    mut framing: impl Framing,
) -> Result<PollOk, PollError> {
    // The client's overall timeout is for polls; a stream lives as long as it delivers.
    let resp = tokio::time::timeout(
        stall.max(Duration::from_secs(1)),
        req.timeout(Duration::from_secs(365 * 86_400)).send(),
    )
    .await
    .map_err(|_| {
        PollError::new(format!(
            "{url} did not answer within {} s",
            stall.as_secs_f64()
        ))
    })?
    .map_err(|e| PollError::new(format!("GET {url} failed: {}", fetch::describe(&e))))?;
    let now = shared.now_ms();
    if resp.status() != StatusCode::OK {
        return Err(fetch::status_error(&resp, url, now));
    }
    shared.update(name, |l| {
        l.last_ok_at = Some(now);
        l.health = Health::Connected { since: now };
    });
    shared.persist_health(name).await;

    let mut out = Out {
        key: super::registry::cursor_key(name),
        origin: format!("source:{name}"),
        name,
        format,
        cursor: None,
        batch: Vec::new(),
        lines: 0,
    };
    let mut partial: Vec<u8> = Vec::new();
    let mut body = resp.bytes_stream();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    let mut last_byte = Instant::now();

    let broken = |message: String| {
        let mut e = PollError::new(message);
        e.after_connect = true;
        e
    };

    loop {
        tokio::select! {
            chunk = body.next() => match chunk {
                Some(Ok(c)) => {
                    last_byte = Instant::now();
                    partial.extend_from_slice(&c);
                    while let Some(pos) = memchr::memchr(b'\n', &partial) {
                        let mut line: Vec<u8> = partial.drain(..=pos).collect();
                        line.pop();
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                        if let Some(rec) = framing.line(&line) {
                            if let Some(c) = framing.cursor_of(&rec) {
                                out.cursor = Some(c);
                            }
                            out.batch.extend_from_slice(&rec);
                            out.batch.push(b'\n');
                            out.lines += 1;
                            if out.lines >= BATCH_LINES {
                                out.flush(shared).await?;
                            }
                        }
                    }
                    if partial.len() > MAX_LINE_BYTES {
                        out.flush(shared).await?;
                        return Err(broken(format!("{url} sent a line over 16 MiB; reconnecting")));
                    }
                }
                Some(Err(e)) => {
                    out.flush(shared).await?;
                    return Err(broken(format!("the stream from {url} broke: {}", fetch::describe(&e))));
                }
                None => {
                    out.flush(shared).await?;
                    return Err(broken(format!("{url} closed the stream")));
                }
            },
            _ = tick.tick() => {
                out.flush(shared).await?;
                if last_byte.elapsed() > stall {
                    return Err(broken(format!(
                        "stalled: no data or keep-alive from {url} for {} s; reconnecting",
                        stall.as_secs_f64()
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_framing() {
        let mut f = SseEvents::default();
        let mut out = Vec::new();
        for l in [
            ":thump",
            "event: update",
            "data: {\"id\":\"7\",",
            "data: \"x\":1}",
            "",
            "event: delete",
            "data: 123",
            "",
            "",
        ] {
            if let Some(r) = f.line(l.as_bytes()) {
                out.push(String::from_utf8(r).unwrap());
            }
        }
        assert_eq!(
            out,
            vec![
                r#"{"event":"update","payload":{"id":"7","x":1}}"#,
                r#"{"event":"delete","payload":"123"}"#
            ]
        );
        assert_eq!(
            f.cursor_of(out[0].as_bytes()).as_deref(),
            Some(r#"{"last_id":"7"}"#)
        );
    }
}
