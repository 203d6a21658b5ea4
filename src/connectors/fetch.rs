//! HTTP helpers shared by the polling connectors: bounded bodies, rate-limit headers, errors
//! that say what happened.

use std::time::Duration;

use futures::StreamExt;
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};

/// Largest body a poll reads; a bigger one is refused without buffering it.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Longest wait a server may impose through `Retry-After` / `x-rate-limit-reset`.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(3600);

/// Why a poll or a connection failed.
#[derive(Debug, Clone)]
pub struct PollError {
    pub message: String,
    /// The server asked us to wait at least this long.
    pub retry_after: Option<Duration>,
    /// The server answered, with something unusable (not a transient network failure):
    /// the source shows as failing at once.
    pub content: bool,
    /// A stream that was connected broke: retry soon, as after a first failure.
    pub after_connect: bool,
}

impl PollError {
    pub fn new(message: impl Into<String>) -> Self {
        PollError {
            message: message.into(),
            retry_after: None,
            content: false,
            after_connect: false,
        }
    }

    pub fn content(message: impl Into<String>) -> Self {
        PollError {
            content: true,
            ..PollError::new(message)
        }
    }
}

/// A reqwest error with its causes (a redirect loop, a refused connection, a TLS failure).
pub fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        let c_s = c.to_string();
        if !s.contains(&c_s) {
            s.push_str(": ");
            s.push_str(&c_s);
        }
        src = c.source();
    }
    s
}

/// The delay asked for by `Retry-After` (seconds or an HTTP date) or X's
/// `x-rate-limit-reset` (Unix seconds), capped at [`MAX_SERVER_DELAY`].
pub fn server_delay(h: &HeaderMap, now_ms: i64) -> Option<Duration> {
    let text = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let from_retry = text("retry-after").and_then(|v| {
        if let Ok(s) = v.parse::<u64>() {
            return Some(Duration::from_secs(s));
        }
        let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
        Some(Duration::from_millis(
            (at.timestamp_millis() - now_ms).max(0) as u64,
        ))
    });
    let from_reset = text("x-rate-limit-reset")
        .and_then(|v| v.parse::<i64>().ok())
        .map(|s| Duration::from_millis((s * 1000 - now_ms).max(0) as u64));
    let d = match (from_retry, from_reset) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a.or(b)?,
    };
    Some(d.min(MAX_SERVER_DELAY))
}

/// Turns a non-success status into an error, with the server's requested delay.
pub fn status_error(resp: &Response, url: &str, now_ms: i64) -> PollError {
    let status = resp.status();
    let mut e = PollError::new(match status {
        StatusCode::TOO_MANY_REQUESTS => format!("rate limited by {url} (HTTP 429)"),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => format!(
            "{url} refused the credentials (HTTP {}); check the token given with --token-env",
            status.as_u16()
        ),
        s => format!("{url} answered HTTP {}", s.as_u16()),
    });
    e.retry_after = server_delay(resp.headers(), now_ms);
    // A server that limits us without saying how long still gets a minute of peace.
    if status == StatusCode::TOO_MANY_REQUESTS && e.retry_after.is_none() {
        e.retry_after = Some(Duration::from_secs(60));
    }
    e
}

/// Reads a whole body of at most `limit` bytes; a longer one is an error, read no further.
pub async fn read_limited(resp: Response, url: &str, limit: usize) -> Result<Vec<u8>, PollError> {
    let too_big = || {
        PollError::content(format!(
            "{url} sent a body over {} MiB; refused",
            limit / (1024 * 1024)
        ))
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_big());
    }
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            PollError::new(format!(
                "reading the body of {url} failed: {}",
                describe(&e)
            ))
        })?;
        if out.len() + chunk.len() > limit {
            return Err(too_big());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn rate_limit_headers() {
        let now = 1_700_000_000_000;
        let mut h = HeaderMap::new();
        assert_eq!(server_delay(&h, now), None);
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(server_delay(&h, now), Some(Duration::from_secs(7)));
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1700000030"));
        assert_eq!(server_delay(&h, now), Some(Duration::from_secs(30)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Tue, 14 Nov 2023 22:13:40 GMT"),
        );
        assert_eq!(server_delay(&h, now), Some(Duration::from_secs(20)));
        h.insert("retry-after", HeaderValue::from_static("999999"));
        assert_eq!(server_delay(&h, now), Some(MAX_SERVER_DELAY));
    }
}
