//! Who is on duty at an instant, and where coverage has gaps or overlaps.
//!
//! Every shift occurrence is computed from its local date: start = local date + start time,
//! end = local date (+1 day when the shift crosses midnight) + end time, each turned into a UTC
//! instant by the site's zone. So a night shift on the night clocks go back lasts an hour
//! longer, as it does on the wall clock of the people working it. A local time that does not
//! exist (skipped by a DST jump) is the instant the clock jumps; an ambiguous one (repeated when
//! clocks go back) is its first occurrence.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

use super::spec::{Contacts, Site};

/// One occurrence of a shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duty {
    pub site: String,
    pub shift: String,
    /// UTC ms.
    pub start: i64,
    pub end: i64,
    /// When the handoff brief of this shift is due (UTC ms).
    pub handover: i64,
    /// The site's local date the shift started on.
    pub local_date: NaiveDate,
    pub contacts: Contacts,
}

/// A stretch of time with the same set of sites on duty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub from: i64,
    pub to: i64,
    /// Sites on duty (empty = a gap; two or more = an overlap).
    pub sites: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub from: i64,
    pub to: i64,
    pub segments: Vec<Segment>,
    pub gaps: Vec<Segment>,
    pub overlaps: Vec<Segment>,
}

/// The UTC instant of a local wall-clock time in `tz` (see the module doc for gaps/folds).
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> i64 {
    let mut t = local;
    // A DST gap is at most a few hours (real zones: 1 h, Lord Howe 30 min).
    for _ in 0..=240 {
        if let Some(dt) = tz.from_local_datetime(&t).earliest() {
            return dt.timestamp_millis();
        }
        t += Duration::minutes(1);
    }
    // Unreachable for real zones; fall back to reading the time as UTC rather than failing.
    local.and_utc().timestamp_millis()
}

fn at_minute(date: NaiveDate, min: u32) -> NaiveDateTime {
    date.and_time(NaiveTime::MIN) + Duration::minutes(min as i64)
}

/// Every shift occurrence of `site` that overlaps `[from, to)`.
pub fn duties(site: &Site, from: i64, to: i64) -> Vec<Duty> {
    let tz = site.tz;
    let local = |ms: i64| {
        tz.timestamp_millis_opt(ms)
            .single()
            .map(|d| d.date_naive())
            .unwrap_or_default()
    };
    // One day of margin each side: a shift that started yesterday may still run.
    let (mut d, last) = (
        local(from) - Duration::days(1),
        local(to) + Duration::days(1),
    );
    let mut out = Vec::new();
    while d <= last {
        if !site.holidays.contains(&d) {
            for s in &site.shifts {
                if !s.runs_on(d.weekday()) {
                    continue;
                }
                let start = local_to_utc(tz, at_minute(d, s.start_min));
                let end_date = if s.end_min > s.start_min {
                    d
                } else {
                    d + Duration::days(1)
                };
                let end = local_to_utc(tz, at_minute(end_date, s.end_min));
                let handover = local_to_utc(tz, at_minute(d, s.start_min + s.handover_after_min));
                if start < to && end > from && end > start {
                    out.push(Duty {
                        site: site.name.clone(),
                        shift: s.name.clone(),
                        start,
                        end,
                        handover: handover.clamp(start, end),
                        local_date: d,
                        contacts: s.contacts.clone(),
                    });
                }
            }
        }
        d += Duration::days(1);
    }
    out.sort_by_key(|x| x.start);
    out
}

/// Shifts running at `at` across all sites.
pub fn on_duty(sites: &[Site], at: i64) -> Vec<Duty> {
    let mut out: Vec<Duty> = sites
        .iter()
        .flat_map(|s| duties(s, at, at + 1))
        .filter(|d| d.start <= at && at < d.end)
        .collect();
    out.sort_by(|a, b| a.site.cmp(&b.site).then(a.start.cmp(&b.start)));
    out
}

/// Which sites are on duty over `[from, to)`, as segments, with the gaps and overlaps.
pub fn coverage(sites: &[Site], from: i64, to: i64) -> Coverage {
    let all: Vec<Duty> = sites.iter().flat_map(|s| duties(s, from, to)).collect();
    let mut cuts: Vec<i64> = vec![from, to];
    for d in &all {
        cuts.extend([d.start.clamp(from, to), d.end.clamp(from, to)]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut segments: Vec<Segment> = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let mut on: Vec<String> = all
            .iter()
            .filter(|d| d.start <= a && a < d.end)
            .map(|d| d.site.clone())
            .collect();
        on.sort();
        on.dedup();
        match segments.last_mut() {
            Some(last) if last.sites == on && last.to == a => last.to = b,
            _ => segments.push(Segment {
                from: a,
                to: b,
                sites: on,
            }),
        }
    }
    Coverage {
        from,
        to,
        gaps: segments
            .iter()
            .filter(|s| s.sites.is_empty())
            .cloned()
            .collect(),
        overlaps: segments
            .iter()
            .filter(|s| s.sites.len() > 1)
            .cloned()
            .collect(),
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sites::spec::{ShiftSpec, SiteSpec};
    use chrono::Utc;

    fn site(name: &str, tz: &str, shifts: &[(&str, &[&str], &str, &str)]) -> Site {
        SiteSpec {
            name: name.into(),
            tz: tz.into(),
            next: None,
            holidays: vec![],
            shifts: shifts
                .iter()
                .map(|(n, d, s, e)| ShiftSpec {
                    name: n.to_string(),
                    days: d.iter().map(|x| x.to_string()).collect(),
                    start: s.to_string(),
                    end: e.to_string(),
                    handover: None,
                    lead: None,
                    legal: None,
                    exec: None,
                })
                .collect(),
        }
        .check()
        .expect("valid site")
    }

    const ALL: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    fn utc(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&Utc)
            .timestamp_millis()
    }

    fn hours(d: &Duty) -> f64 {
        (d.end - d.start) as f64 / 3_600_000.0
    }

    #[test]
    fn a_half_hour_offset_site() {
        // Bengaluru is UTC+05:30 all year: 09:00 IST = 03:30 UTC.
        let blr = site(
            "bengaluru",
            "Asia/Kolkata",
            &[("day", ALL, "09:00", "18:00")],
        );
        let on = on_duty(std::slice::from_ref(&blr), utc("2026-03-10T03:30:00Z"));
        assert_eq!(on.len(), 1);
        assert_eq!(on[0].start, utc("2026-03-10T03:30:00Z"));
        assert_eq!(on[0].end, utc("2026-03-10T12:30:00Z"));
        assert!(on_duty(&[blr], utc("2026-03-10T03:29:00Z")).is_empty());
    }

    #[test]
    fn a_shift_crossing_midnight_belongs_to_the_day_it_started() {
        let sg = site(
            "singapore",
            "Asia/Singapore",
            &[("night", &["fri"], "22:00", "06:00")],
        );
        // Saturday 02:00 local (Fri 18:00 UTC) is Friday's night shift.
        let on = on_duty(std::slice::from_ref(&sg), utc("2026-11-20T18:00:00Z"));
        assert_eq!(on.len(), 1);
        assert_eq!(on[0].local_date.to_string(), "2026-11-20");
        assert_eq!(hours(&on[0]), 8.0);
        // Saturday 22:00 local: no Saturday night shift.
        assert!(on_duty(&[sg], utc("2026-11-21T14:00:00Z")).is_empty());
    }

    #[test]
    fn dst_start_and_end_in_both_hemispheres() {
        // Austin (northern): clocks go forward 2026-03-08 02:00 -> 03:00 and back 2026-11-01.
        let aus = site(
            "austin",
            "America/Chicago",
            &[("night", ALL, "22:00", "06:00")],
        );
        let spring = duties(
            &aus,
            utc("2026-03-08T05:00:00Z"),
            utc("2026-03-08T05:00:01Z"),
        );
        assert_eq!(
            hours(&spring[0]),
            7.0,
            "the night clocks go forward is an hour short"
        );
        let fall = duties(
            &aus,
            utc("2026-11-01T06:00:00Z"),
            utc("2026-11-01T06:00:01Z"),
        );
        assert_eq!(
            hours(&fall[0]),
            9.0,
            "the night clocks go back is an hour long"
        );
        // Sydney (southern): DST ends 2026-04-05 03:00 -> 02:00, starts 2026-10-04 02:00 -> 03:00.
        let syd = site(
            "sydney",
            "Australia/Sydney",
            &[("night", ALL, "22:00", "06:00")],
        );
        let april = duties(
            &syd,
            utc("2026-04-04T15:00:00Z"),
            utc("2026-04-04T15:00:01Z"),
        );
        assert_eq!(april[0].local_date.to_string(), "2026-04-04");
        assert_eq!(hours(&april[0]), 9.0);
        let october = duties(
            &syd,
            utc("2026-10-03T15:00:00Z"),
            utc("2026-10-03T15:00:01Z"),
        );
        assert_eq!(hours(&october[0]), 7.0);
    }

    #[test]
    fn a_shift_starting_in_the_skipped_hour_starts_when_the_clock_jumps() {
        // 02:30 does not exist in Chicago on 2026-03-08: the shift starts at 03:00 CDT.
        let aus = site(
            "austin",
            "America/Chicago",
            &[("early", &["sun"], "02:30", "10:00")],
        );
        let d = duties(
            &aus,
            utc("2026-03-08T00:00:00Z"),
            utc("2026-03-09T00:00:00Z"),
        );
        assert_eq!(d[0].start, utc("2026-03-08T08:00:00Z"));
        assert_eq!(d[0].end, utc("2026-03-08T15:00:00Z"));
        // 01:30 happens twice on 2026-11-01: the first one (CDT) counts.
        let aus = site(
            "austin",
            "America/Chicago",
            &[("early", &["sun"], "01:30", "10:00")],
        );
        let d = duties(
            &aus,
            utc("2026-11-01T00:00:00Z"),
            utc("2026-11-02T00:00:00Z"),
        );
        assert_eq!(d[0].start, utc("2026-11-01T06:30:00Z"));
    }

    #[test]
    fn a_handover_during_a_dst_jump() {
        // Day shift 20:00-04:00 with the default handover 30 min before the end (03:30):
        // on 2026-03-08 Chicago local 03:30 exists (after the jump), 9 h after a 20:00 start
        // would be 05:00 wall time, so the handover follows the wall clock.
        let aus = site(
            "austin",
            "America/Chicago",
            &[("late", &["sat"], "20:00", "04:00")],
        );
        let d = duties(
            &aus,
            utc("2026-03-08T00:00:00Z"),
            utc("2026-03-09T00:00:00Z"),
        );
        assert_eq!(d[0].start, utc("2026-03-08T02:00:00Z"));
        assert_eq!(d[0].end, utc("2026-03-08T09:00:00Z"), "04:00 CDT");
        assert!(d[0].handover <= d[0].end && d[0].handover > d[0].start);
    }

    #[test]
    fn gaps_and_overlaps_of_three_centers() {
        let sites = [
            site(
                "austin",
                "America/Chicago",
                &[("day", ALL, "08:00", "17:00")],
            ),
            site(
                "singapore",
                "Asia/Singapore",
                &[("day", ALL, "08:00", "17:00")],
            ),
            site("lisbon", "Europe/Lisbon", &[("day", ALL, "08:00", "17:00")]),
        ];
        let from = utc("2026-11-23T00:00:00Z");
        let c = coverage(&sites, from, from + 24 * 3_600_000);
        let total: i64 = c.segments.iter().map(|s| s.to - s.from).sum();
        assert_eq!(total, 24 * 3_600_000, "segments cover the window exactly");
        // Lisbon (UTC+0 in November) 08-17 UTC and Austin (UTC-6) 14-23 UTC overlap 14-17.
        assert!(c
            .overlaps
            .iter()
            .any(|s| s.sites == ["austin", "lisbon"] && s.from == utc("2026-11-23T14:00:00Z")));
        // Singapore (UTC+8) 00-09 UTC, Lisbon from 08: nobody between 23:00 and 00:00 UTC.
        assert!(c.gaps.iter().any(|s| s.from == utc("2026-11-23T23:00:00Z")));
    }
}
