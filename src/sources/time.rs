//! Event times as integer milliseconds UTC, from the spellings the sources use.

use chrono::{DateTime, SecondsFormat};

/// Milliseconds since the Unix epoch of an RFC 3339 time (`2021-04-01T15:52:31.000Z`,
/// `2025-07-17T20:03:39+02:00`). Sub-millisecond digits are truncated.
///
/// The common UTC spelling (`...Z`, as X, Mastodon, Bluesky and our own NDJSON write it)
/// takes a hand-written fast path: this runs once per line of a million-line ingest.
/// Anything else (offsets, leap seconds, odd but valid forms) goes through chrono.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    fast_utc(s).or_else(|| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.timestamp_millis())
    })
}

fn fast_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
        || !matches!(b[b.len() - 1], b'Z' | b'z')
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let frac = &b[19..b.len() - 1];
    let mut ms = 0;
    if !frac.is_empty() {
        if frac[0] != b'.'
            || frac.len() < 2
            || frac.len() > 10
            || !frac[1..].iter().all(u8::is_ascii_digit)
        {
            return None;
        }
        for i in 1..4 {
            ms = ms * 10 + frac.get(i).map_or(0, |c| i64::from(c - b'0'));
        }
    }
    // Second 60 (a leap second) is valid RFC 3339; chrono knows what to do with it.
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The twcs / X v1.1 spelling: `Tue Oct 31 22:10:47 +0000 2017`.
pub(crate) fn parse_twitter_classic_ms(s: &str) -> Option<i64> {
    DateTime::parse_from_str(s.trim(), "%a %b %d %H:%M:%S %z %Y")
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Seconds (possibly fractional, as Reddit's `created_utc`) to milliseconds.
pub(crate) fn secs_f64_to_ms(secs: f64) -> Option<i64> {
    // Keep to a range where f64 -> i64 is exact enough and cannot overflow.
    (secs.is_finite() && secs.abs() < 1e13).then(|| (secs * 1000.0).round() as i64)
}

/// A time for people reading a reject detail.
pub(crate) fn iso(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| format!("{ms} ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in [
            "2021-04-01T15:52:31.000Z",
            "2021-04-01T15:52:31Z",
            "2021-04-01T15:52:31.5Z",
            "2021-04-01T15:52:31.123456789Z",
            "2024-02-29T23:59:59.999Z",
            "2000-02-29T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-07-04t14:38:06.240z",
        ] {
            assert_eq!(fast_utc(s), Some(chrono_ms(s)), "{s}");
        }
    }

    #[test]
    fn other_forms_fall_back_to_chrono() {
        assert_eq!(
            parse_rfc3339_ms("2025-07-17T22:03:39+02:00"),
            Some(chrono_ms("2025-07-17T20:03:39Z"))
        );
        assert_eq!(fast_utc("2025-07-17T22:03:39+02:00"), None);
    }

    #[test]
    fn rejects_impossible_dates() {
        for s in [
            "2023-02-29T00:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-04-31T00:00:00Z",
            "2021-04-01T24:00:00Z",
            "2021-04-01T15:52:31.Z",
            "2021-04-01 15:52",
            "yesterday",
            "",
            "2021-04-01T15:52:31.000",
        ] {
            assert_eq!(parse_rfc3339_ms(s), None, "{s}");
        }
    }

    #[test]
    fn twitter_classic_and_float_seconds() {
        assert_eq!(
            parse_twitter_classic_ms("Tue Oct 31 22:10:47 +0000 2017"),
            Some(chrono_ms("2017-10-31T22:10:47Z"))
        );
        assert_eq!(parse_twitter_classic_ms("Oct 31 2017"), None);
        assert_eq!(secs_f64_to_ms(1456814968.0), Some(1_456_814_968_000));
        assert_eq!(secs_f64_to_ms(f64::NAN), None);
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
    }
}
