//! Site calendars: an IANA time zone, business hours per weekday and holidays. SLA clocks run
//! in the business hours of the site that owns a track, so a case opened on Friday evening is
//! not "late" on Saturday morning when nobody is on shift.
//!
//! Issue 5 (follow-the-sun) extends sites; keep this module about calendars only.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

/// A site as written in the playbook (`[[site]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    pub name: String,
    /// IANA zone, e.g. `Europe/Lisbon`.
    pub tz: String,
    /// `mon = "08:00-18:00"`; a day left out is closed. `"00:00-24:00"` is the whole day.
    #[serde(default)]
    pub hours: std::collections::BTreeMap<String, String>,
    /// Local dates (`2026-12-25`) on which the site is closed.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Business hours of one weekday: minutes after local midnight, `start < end <= 1440`.
pub type Window = (u32, u32);

#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    pub tz: Tz,
    /// Monday first.
    pub hours: [Option<Window>; 7],
    pub holidays: BTreeSet<NaiveDate>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// How far a clock may run looking for business hours (a site closed for longer is an error).
const MAX_DAYS: i64 = 3 * 366;

use crate::clock::parse_hhmm;

fn parse_window(s: &str) -> Option<Window> {
    let (a, b) = s.split_once('-')?;
    let (a, b) = (parse_hhmm(a)?, parse_hhmm(b)?);
    (a < b).then_some((a, b))
}

impl Site {
    /// Checks a spec; the error says which field is wrong and what is expected.
    pub fn from_spec(spec: &SiteSpec) -> Result<Site, String> {
        let tz: Tz = spec.tz.parse().map_err(|_| {
            format!(
                "site `{}`: unknown time zone `{}`; use an IANA name like Europe/Lisbon",
                spec.name, spec.tz
            )
        })?;
        let mut hours = [None; 7];
        for (day, range) in &spec.hours {
            let i = DAYS
                .iter()
                .position(|d| d.eq_ignore_ascii_case(day))
                .ok_or_else(|| {
                    format!(
                        "site `{}`: unknown day `{day}`; use mon, tue, wed, thu, fri, sat, sun",
                        spec.name
                    )
                })?;
            hours[i] = Some(parse_window(range).ok_or_else(|| {
                format!(
                    "site `{}`: hours `{range}` for {day} are not like \"08:00-18:00\" (start before end)",
                    spec.name
                )
            })?);
        }
        if hours.iter().all(Option::is_none) {
            return Err(format!(
                "site `{}` has no business hours; give at least one day, e.g. mon = \"09:00-17:00\"",
                spec.name
            ));
        }
        let holidays = spec
            .holidays
            .iter()
            .map(|d| {
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                    format!(
                        "site `{}`: holiday `{d}` is not a date like 2026-12-25",
                        spec.name
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Site {
            name: spec.name.clone(),
            tz,
            hours,
            holidays,
        })
    }

    /// A site open around the clock (UTC), for tests and for playbooks that name no site.
    pub fn always_open(name: &str) -> Site {
        Site {
            name: name.to_string(),
            tz: chrono_tz::UTC,
            hours: [Some((0, 1440)); 7],
            holidays: BTreeSet::new(),
        }
    }

    /// The business window of local `date` as UTC milliseconds, if the site is open that day.
    fn window_on(&self, date: NaiveDate) -> Option<(i64, i64)> {
        if self.holidays.contains(&date) {
            return None;
        }
        let (a, b) = self.hours[date.weekday().num_days_from_monday() as usize]?;
        let at = |min: u32| -> Option<i64> {
            let local = if min >= 1440 {
                date.succ_opt()?.and_time(NaiveTime::MIN)
            } else {
                date.and_time(NaiveTime::from_num_seconds_from_midnight_opt(min * 60, 0)?)
            };
            // A local time skipped by a DST jump takes the next instant that exists.
            let t = self.tz.from_local_datetime(&local);
            let t = t.earliest().or_else(|| {
                self.tz
                    .from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })?;
            Some(t.timestamp_millis())
        };
        Some((at(a)?, at(b)?))
    }

    fn local_date(&self, ms: i64) -> Option<NaiveDate> {
        Some(self.tz.timestamp_millis_opt(ms).single()?.date_naive())
    }

    /// The instant `business_ms` of business time after `start` (`start` itself if zero and
    /// inside hours). `None` when the site is closed for longer than three years.
    pub fn add_business(&self, start: i64, business_ms: i64) -> Option<i64> {
        let mut remaining = business_ms.max(0);
        let mut date = self.local_date(start)?.pred_opt()?;
        for _ in 0..MAX_DAYS {
            if let Some((open, close)) = self.window_on(date) {
                let from = open.max(start);
                if from < close {
                    let avail = close - from;
                    if remaining <= avail {
                        return Some(from + remaining);
                    }
                    remaining -= avail;
                }
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// Business time between `a` and `b` (0 if `b <= a`).
    pub fn business_between(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        let (Some(mut date), Some(last)) = (
            self.local_date(a).and_then(|d| d.pred_opt()),
            self.local_date(b).and_then(|d| d.succ_opt()),
        ) else {
            return 0;
        };
        let mut total = 0;
        while date <= last {
            if let Some((open, close)) = self.window_on(date) {
                let (x, y) = (open.max(a), close.min(b));
                if y > x {
                    total += y - x;
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        total
    }

    /// Is the site open at `ms`?
    pub fn is_open(&self, ms: i64) -> bool {
        self.business_between(ms, ms + 1) == 1
    }

    pub fn weekday_name(w: Weekday) -> &'static str {
        DAYS[w.num_days_from_monday() as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    fn lisbon() -> Site {
        let spec: SiteSpec = toml::from_str(
            r#"name = "lisbon"
tz = "Europe/Lisbon"
hours = { mon = "09:00-17:00", tue = "09:00-17:00", wed = "09:00-17:00", thu = "09:00-17:00", fri = "09:00-17:00" }
holidays = ["2026-12-25"]"#,
        )
        .unwrap();
        Site::from_spec(&spec).unwrap()
    }

    #[test]
    fn friday_evening_plus_two_hours_is_monday_morning() {
        // Fri 2026-11-20 16:00 Lisbon (UTC+0 in winter) + 2 business hours = Mon 10:00.
        let s = lisbon();
        let due = s
            .add_business(ms("2026-11-20T16:00:00Z"), 2 * 3_600_000)
            .unwrap();
        assert_eq!(due, ms("2026-11-23T10:00:00Z"));
        assert_eq!(
            s.business_between(ms("2026-11-20T16:00:00Z"), due),
            2 * 3_600_000
        );
    }

    #[test]
    fn christmas_is_skipped() {
        // Thu 2026-12-24 16:30 + 1 h: 30 min on Thursday, Friday is a holiday, then the
        // weekend, so Mon 2026-12-28 09:30.
        let s = lisbon();
        let due = s
            .add_business(ms("2026-12-24T16:30:00Z"), 3_600_000)
            .unwrap();
        assert_eq!(due, ms("2026-12-28T09:30:00Z"));
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let mut spec: SiteSpec = toml::from_str("name = \"x\"\ntz = \"Mars/Base\"").unwrap();
        assert!(Site::from_spec(&spec).unwrap_err().contains("time zone"));
        spec.tz = "UTC".into();
        assert!(Site::from_spec(&spec)
            .unwrap_err()
            .contains("no business hours"));
        spec.hours.insert("mon".into(), "18:00-09:00".into());
        assert!(Site::from_spec(&spec)
            .unwrap_err()
            .contains("start before end"));
    }

    #[test]
    fn always_open_counts_wall_time() {
        let s = Site::always_open("x");
        assert_eq!(s.add_business(1_000, 5_000), Some(6_000));
        assert!(s.is_open(123_456));
    }
}
