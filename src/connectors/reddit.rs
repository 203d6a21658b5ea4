//! Reddit listings (`/r/{sub}/new.json`, `/r/{sub}/comments.json`, searches) polled with
//! `before`/`after` paging. The cursor is the fullname of the newest stored entry; each poll asks
//! for what is newer (`before=`), in pages of `limit`. The first poll also walks back with
//! `after=` for up to [`BACKFILL_PAGES`] pages.

use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fetch::{self, PollError};
use super::secrets::Secret;
use super::{PollOk, Shared};
use crate::sources::Format;

/// Entries per request unless the URL sets `limit` (Reddit's maximum).
pub const DEFAULT_LIMIT: usize = 100;
/// Pages read back in history on the first poll.
pub const BACKFILL_PAGES: usize = 10;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RedditCursor {
    /// Fullname (`t3_48f0th`) of the newest entry stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<String>,
}

struct Page {
    body: Vec<u8>,
    names: Vec<String>,
    after: Option<String>,
}

async fn fetch_page(
    shared: &Shared,
    base: &Url,
    token: Option<&Secret>,
    param: Option<(&str, &str)>,
) -> Result<Page, PollError> {
    let mut url = base.clone();
    if let Some((k, v)) = param {
        url.query_pairs_mut().append_pair(k, v);
    }
    let shown = base.as_str();
    let mut req = shared.client.get(url.clone());
    if let Some(t) = token {
        req = req.bearer_auth(t.expose());
    }
    let resp = req
        .send()
        .await
        .map_err(|e| PollError::new(format!("GET {shown} failed: {}", fetch::describe(&e))))?;
    if !resp.status().is_success() {
        return Err(fetch::status_error(&resp, shown, shared.now_ms()));
    }
    let body = fetch::read_limited(resp, shown, fetch::MAX_BODY_BYTES).await?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| {
        PollError::content(format!(
            "{shown} did not answer with JSON ({e}); is it a listing URL ending in .json?"
        ))
    })?;
    if v.get("kind").and_then(Value::as_str) != Some("Listing") {
        return Err(PollError::content(format!(
            "{shown} did not answer with a Reddit listing (`kind: Listing`)"
        )));
    }
    let data = &v["data"];
    let names = data["children"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|e| e["data"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(Page {
        body,
        names,
        after: data["after"].as_str().map(str::to_string),
    })
}

pub(super) async fn poll(
    shared: &Shared,
    name: &str,
    url: &str,
    token: Option<&Secret>,
) -> Result<PollOk, PollError> {
    let key = super::registry::cursor_key(name);
    let cursor: RedditCursor = shared
        .ingestor
        .store
        .cursor(&key)
        .await
        .map_err(|e| PollError::new(e.to_string()))?
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default();
    let mut base =
        Url::parse(url).map_err(|e| PollError::content(format!("bad URL {url}: {e}")))?;
    let limit = match base.query_pairs().find(|(k, _)| k == "limit") {
        Some((_, v)) => v.parse().unwrap_or(DEFAULT_LIMIT),
        None => {
            base.query_pairs_mut()
                .append_pair("limit", &DEFAULT_LIMIT.to_string());
            DEFAULT_LIMIT
        }
    };
    let origin = format!("source:{name}");
    let (pages, more) = match &cursor.newest {
        // Newer than the newest stored: Reddit returns the `limit` entries just after it.
        Some(newest) => {
            let page = fetch_page(shared, &base, token, Some(("before", newest))).await?;
            let more = page.names.len() >= limit;
            if page.names.is_empty() {
                // Nothing newer, or the cursor's entry was deleted (then Reddit answers nothing
                // to `before=` forever). The newest page tells which: if it no longer holds the
                // cursor, read it and move the cursor there (identity stores repeats once).
                let head = fetch_page(shared, &base, token, None).await?;
                if !head.names.is_empty() && !head.names.iter().any(|n| n == newest) {
                    tracing::info!(source = name, cursor = %newest, "reddit: the cursor's entry is gone; resuming from the newest page");
                    (vec![head], false)
                } else {
                    (vec![page], false)
                }
            } else {
                (vec![page], more)
            }
        }
        // First poll: the newest page, then back through history.
        None => {
            let mut pages = vec![fetch_page(shared, &base, token, None).await?];
            while pages.len() < BACKFILL_PAGES {
                let last = pages.last().expect("one page");
                let Some(after) = last.after.clone() else {
                    break;
                };
                if last.names.len() < limit {
                    break;
                }
                let next = fetch_page(shared, &base, token, Some(("after", &after))).await?;
                if next.names.is_empty() {
                    break;
                }
                pages.push(next);
            }
            (pages, false)
        }
    };
    // The newest entry is the first of the first page (listings are newest first).
    let Some(newest) = pages[0].names.first().cloned() else {
        return Ok(PollOk::default());
    };
    let next_cursor = serde_json::to_string(&RedditCursor {
        newest: Some(newest),
    })
    .unwrap_or_else(|_| "{}".into());
    let mut ok = PollOk {
        more,
        ..PollOk::default()
    };
    let n = pages.len();
    // Older pages first; the cursor rides with the last write, after everything it covers.
    for (i, page) in pages.into_iter().enumerate().rev() {
        let r = if i == 0 {
            shared
                .ingestor
                .ingest_bytes_with_cursor(
                    &origin,
                    page.body,
                    Format::Reddit,
                    (key.clone(), next_cursor.clone()),
                )
                .await
        } else {
            shared
                .ingestor
                .ingest_bytes(&origin, page.body, Format::Reddit)
                .await
        }
        .map_err(|e| PollError::new(format!("storing page {} of {n} failed: {e}", i + 1)))?;
        ok.read += r.read;
        ok.stored += r.stored;
    }
    Ok(ok)
}
