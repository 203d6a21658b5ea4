//! RSS/Atom polling with conditional GET: the ETag and Last-Modified of the last stored answer
//! are the cursor, committed with the items of that answer.

use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::fetch::{self, PollError};
use super::{PollOk, Shared};
use crate::sources::{self, Format, Item};
use crate::store::Store;

/// Most entries accepted from one feed document.
pub const MAX_ITEMS_PER_POLL: usize = 20_000;

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RssCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

pub(super) async fn poll(
    shared: &Shared,
    store: &Store,
    name: &str,
    url: &str,
) -> Result<PollOk, PollError> {
    let key = super::registry::cursor_key(name);
    let cursor: RssCursor = store
        .cursor(&key)
        .await
        .map_err(|e| PollError::new(e.to_string()))?
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default();
    let mut req = shared.client.get(url);
    if let Some(e) = &cursor.etag {
        req = req.header(IF_NONE_MATCH, e);
    }
    if let Some(m) = &cursor.last_modified {
        req = req.header(IF_MODIFIED_SINCE, m);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| PollError::new(format!("GET {url} failed: {}", fetch::describe(&e))))?;
    let now = shared.now_ms();
    if resp.status() == StatusCode::NOT_MODIFIED {
        return Ok(PollOk::default());
    }
    if !resp.status().is_success() {
        return Err(fetch::status_error(&resp, url, now));
    }
    let header = |n| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let next = RssCursor {
        etag: header(ETAG),
        last_modified: header(LAST_MODIFIED),
    };
    let content_type = header(CONTENT_TYPE).unwrap_or_else(|| "no content type".into());
    let body = fetch::read_limited(resp, url, fetch::MAX_BODY_BYTES).await?;

    // Look before storing: a 200 that is not a feed (an HTML error page, a captive portal) must
    // fail the source with a clear message, not land as a dead letter on every poll.
    let (body, entries, whole) = tokio::task::spawn_blocking(move || {
        let mut entries = 0usize;
        let mut whole: Option<String> = None;
        sources::read_bytes(&body, Format::Rss, now, &mut |loc| match loc.item {
            Item::Rejected { reason, detail } if loc.line == 0 => {
                whole = Some(format!("{}: {detail}", reason.as_str()))
            }
            _ => entries += 1,
        });
        (body, entries, whole)
    })
    .await
    .map_err(|e| PollError::new(format!("the feed parser failed: {e}")))?;
    if let Some(why) = whole {
        return Err(PollError::content(format!(
            "{url} answered 200 with {content_type} that is not an RSS/Atom feed ({why})"
        )));
    }
    if entries > MAX_ITEMS_PER_POLL {
        return Err(PollError::content(format!(
            "{url} has {entries} entries, more than the {MAX_ITEMS_PER_POLL} read per poll; refused"
        )));
    }
    let cursor = serde_json::to_string(&next).unwrap_or_else(|_| "{}".into());
    let report = shared
        .ingestor
        .ingest_bytes_with_cursor(&format!("source:{name}"), body, Format::Rss, (key, cursor))
        .await
        .map_err(|e| PollError::new(format!("storing the feed failed: {e}")))?;
    Ok(PollOk {
        read: report.read,
        stored: report.stored,
        more: false,
    })
}
