//! Inbound webhooks: `POST /api/v1/sources/{name}/events` with a body of Sunward NDJSON,
//! authenticated by an HMAC-SHA256 signature instead of the API token (Stripe/GitHub style).
//!
//! The sender computes `hex(HMAC-SHA256(secret, "{timestamp}.{body}"))` over the exact body bytes,
//! with `timestamp` = the current Unix time in seconds, and sends
//! `X-Sunward-Timestamp: {timestamp}` and `X-Sunward-Signature: sha256={hex}`.
//! Refused with 401, changing nothing: no or malformed headers, a signature that does not match,
//! a timestamp more than [`TOLERANCE_S`] from the server's clock, and a signature already
//! accepted (a replay; remembered in memory and in the database for the tolerance window).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-sunward-signature";
pub const TIMESTAMP_HEADER: &str = "x-sunward-timestamp";
/// How far a request's timestamp may be from the server's clock, either way.
pub const TOLERANCE_S: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The `X-Sunward-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("sha256={}", hex::encode(tag))
}

/// Checks the headers of one request; `Ok` carries the normalized signature (the replay key).
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_s: i64,
) -> Result<String, String> {
    let ts_raw = timestamp.ok_or("unsigned request: send X-Sunward-Timestamp (Unix seconds) and X-Sunward-Signature (sha256=<hex of HMAC-SHA256 over \"timestamp.body\">)")?;
    let sig_raw = signature.ok_or("unsigned request: send X-Sunward-Signature: sha256=<hex of HMAC-SHA256 over \"timestamp.body\">")?;
    let ts: i64 = ts_raw
        .trim()
        .parse()
        .map_err(|_| "X-Sunward-Timestamp must be Unix seconds".to_string())?;
    if (now_s - ts).abs() > TOLERANCE_S {
        return Err(format!(
            "stale request: X-Sunward-Timestamp is more than {TOLERANCE_S} s from the server's clock"
        ));
    }
    let hex_sig = sig_raw
        .trim()
        .strip_prefix("sha256=")
        .ok_or("X-Sunward-Signature must start with sha256=")?;
    let tag =
        hex::decode(hex_sig).map_err(|_| "X-Sunward-Signature is not hexadecimal".to_string())?;
    mac(secret, ts_raw.trim(), body)
        .verify_slice(&tag)
        .map_err(|_| "signature does not match the body and this source's secret".to_string())?;
    Ok(format!("sha256={}", hex::encode(tag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify() {
        let body = b"{\"a\":1}\n";
        let s = sign(b"k", 1_700_000_000, body);
        assert!(verify(b"k", Some("1700000000"), Some(&s), body, 1_700_000_010).is_ok());
        assert!(verify(b"k2", Some("1700000000"), Some(&s), body, 1_700_000_010).is_err());
        assert!(verify(b"k", Some("1700000000"), Some(&s), b"x", 1_700_000_010).is_err());
        assert!(verify(b"k", Some("1700000001"), Some(&s), body, 1_700_000_010).is_err());
        assert!(verify(b"k", Some("1700000000"), Some(&s), body, 1_700_000_400).is_err());
        assert!(verify(b"k", None, Some(&s), body, 1_700_000_010).is_err());
        assert!(verify(b"k", Some("1700000000"), None, body, 1_700_000_010).is_err());
        assert!(verify(
            b"k",
            Some("1700000000"),
            Some("sha256=zz"),
            body,
            1_700_000_010
        )
        .is_err());
    }
}
