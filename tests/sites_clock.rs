//! Clock safety of follow-the-sun shifts: DST start and end in both hemispheres (New York,
//! London; Sydney, Santiago, whose Chilean changes happen at midnight), a +05:30 site
//! (Kolkata), shifts crossing midnight, and handovers at local times that do not exist or
//! exist twice that day. Every expected instant is written out in UTC by hand.

use sunward::handoff::generate::current_or_next;
use sunward::sites::coverage::{duties, on_duty, Duty};
use sunward::sites::spec::{ShiftSpec, SiteSpec};
use sunward::sites::Site;

const ALL: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn site(tz: &str, days: &[&str], start: &str, end: &str, handover: Option<&str>) -> Site {
    SiteSpec {
        name: "s".into(),
        tz: tz.into(),
        next: None,
        holidays: vec![],
        shifts: vec![ShiftSpec {
            name: "shift".into(),
            days: days.iter().map(|d| d.to_string()).collect(),
            start: start.into(),
            end: end.into(),
            handover: handover.map(str::to_string),
            lead: None,
            legal: None,
            exec: None,
        }],
    }
    .check()
    .expect("valid site")
}

fn utc(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .timestamp_millis()
}

/// The one shift occurrence that started on local date `date`.
fn on(site: &Site, date: &str) -> Duty {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
    let from = utc(&format!("{date}T00:00:00Z")) - 2 * 86_400_000;
    duties(site, from, from + 5 * 86_400_000)
        .into_iter()
        .find(|x| x.local_date == d)
        .unwrap_or_else(|| panic!("no shift on {date}"))
}

fn hours(d: &Duty) -> f64 {
    (d.end - d.start) as f64 / 3_600_000.0
}

#[test]
fn new_york_spring_forward_and_fall_back() {
    // 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    let ny = site("America/New_York", ALL, "22:00", "06:00", None);
    let d = on(&ny, "2026-03-07");
    assert_eq!(d.start, utc("2026-03-08T03:00:00Z"), "22:00 EST");
    assert_eq!(d.end, utc("2026-03-08T10:00:00Z"), "06:00 EDT");
    assert_eq!(hours(&d), 7.0);
    let d = on(&ny, "2026-10-31");
    assert_eq!(d.start, utc("2026-11-01T02:00:00Z"), "22:00 EDT");
    assert_eq!(d.end, utc("2026-11-01T11:00:00Z"), "06:00 EST");
    assert_eq!(hours(&d), 9.0);
    // An ordinary night is 8 hours.
    assert_eq!(hours(&on(&ny, "2026-03-14")), 8.0);
}

#[test]
fn london_spring_forward_and_fall_back() {
    // 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
    let ldn = site("Europe/London", ALL, "00:30", "08:30", None);
    let d = on(&ldn, "2026-03-29");
    assert_eq!(
        d.start,
        utc("2026-03-29T00:30:00Z"),
        "00:30 GMT, before the jump"
    );
    assert_eq!(d.end, utc("2026-03-29T07:30:00Z"), "08:30 BST");
    assert_eq!(hours(&d), 7.0);
    // A shift starting in the repeated hour starts at its first occurrence (BST).
    let ldn = site("Europe/London", ALL, "01:30", "09:30", None);
    let d = on(&ldn, "2026-10-25");
    assert_eq!(d.start, utc("2026-10-25T00:30:00Z"), "first 01:30 (BST)");
    assert_eq!(d.end, utc("2026-10-25T09:30:00Z"), "09:30 GMT");
    assert_eq!(hours(&d), 9.0);
}

#[test]
fn sydney_southern_hemisphere() {
    // DST ends 2026-04-05 03:00 AEDT -> 02:00 AEST; starts 2026-10-04 02:00 AEST -> 03:00 AEDT.
    let syd = site("Australia/Sydney", ALL, "22:00", "06:00", None);
    let d = on(&syd, "2026-04-04");
    assert_eq!(d.start, utc("2026-04-04T11:00:00Z"), "22:00 AEDT (+11)");
    assert_eq!(d.end, utc("2026-04-04T20:00:00Z"), "06:00 AEST (+10)");
    assert_eq!(hours(&d), 9.0);
    let d = on(&syd, "2026-10-03");
    assert_eq!(d.start, utc("2026-10-03T12:00:00Z"), "22:00 AEST");
    assert_eq!(d.end, utc("2026-10-03T19:00:00Z"), "06:00 AEDT");
    assert_eq!(hours(&d), 7.0);
}

#[test]
fn santiago_changes_clocks_at_midnight() {
    // Chile: DST ends 2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04 (23:00-23:59 on the 4th
    // happen twice); starts 2026-09-06 00:00 -04 -> 01:00 -03 (00:00-00:59 do not exist).
    let scl = site("America/Santiago", ALL, "20:00", "04:00", None);
    let d = on(&scl, "2026-04-04");
    assert_eq!(d.start, utc("2026-04-04T23:00:00Z"), "20:00 -03");
    assert_eq!(d.end, utc("2026-04-05T08:00:00Z"), "04:00 -04");
    assert_eq!(hours(&d), 9.0);
    let d = on(&scl, "2026-09-05");
    assert_eq!(d.start, utc("2026-09-06T00:00:00Z"), "20:00 -04");
    assert_eq!(d.end, utc("2026-09-06T07:00:00Z"), "04:00 -03");
    assert_eq!(hours(&d), 7.0);
    // A shift starting at midnight on the day midnight does not exist starts at 01:00 -03.
    let scl = site("America/Santiago", &["sun"], "00:00", "08:00", None);
    let d = on(&scl, "2026-09-06");
    assert_eq!(d.start, utc("2026-09-06T04:00:00Z"));
    assert_eq!(d.end, utc("2026-09-06T11:00:00Z"));
    // Saturday's 08:00-00:00 shift ends at the skipped midnight: it ends when the clock jumps.
    let scl = site("America/Santiago", &["sat"], "08:00", "00:00", None);
    let d = on(&scl, "2026-09-05");
    assert_eq!(d.end, utc("2026-09-06T04:00:00Z"));
    assert_eq!(hours(&d), 16.0);
}

#[test]
fn kolkata_is_five_and_a_half_hours_ahead() {
    let blr = site("Asia/Kolkata", ALL, "21:30", "06:30", None);
    let d = on(&blr, "2026-11-23");
    assert_eq!(d.start, utc("2026-11-23T16:00:00Z"));
    assert_eq!(d.end, utc("2026-11-24T01:00:00Z"));
    assert_eq!(
        d.handover,
        utc("2026-11-24T00:30:00Z"),
        "default: 30 min before the end"
    );
    assert!(on_duty(std::slice::from_ref(&blr), utc("2026-11-23T15:59:00Z")).is_empty());
    assert_eq!(on_duty(&[blr], utc("2026-11-23T16:00:00Z")).len(), 1);
}

#[test]
fn a_midnight_crossing_shift_belongs_to_the_day_it_started_and_its_holiday() {
    let mut spec = SiteSpec {
        name: "sg".into(),
        tz: "Asia/Singapore".into(),
        next: None,
        holidays: vec!["2026-11-27".into()],
        shifts: vec![ShiftSpec {
            name: "night".into(),
            days: vec!["thu".into(), "fri".into()],
            start: "22:00".into(),
            end: "06:00".into(),
            handover: Some("05:30".into()),
            lead: None,
            legal: None,
            exec: None,
        }],
    };
    let sg = spec.check().expect("valid");
    // Friday 2026-11-27 02:00 local is Thursday's shift (Thursday is not a holiday).
    let d = on_duty(std::slice::from_ref(&sg), utc("2026-11-26T18:00:00Z"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].local_date.to_string(), "2026-11-26");
    assert_eq!(
        d[0].handover,
        utc("2026-11-26T21:30:00Z"),
        "05:30 Friday local"
    );
    // Saturday 02:00 would be Friday's shift: Friday is a holiday, so nobody.
    assert!(on_duty(std::slice::from_ref(&sg), utc("2026-11-27T18:00:00Z")).is_empty());
    spec.holidays.clear();
    let sg = spec.check().expect("valid");
    assert_eq!(on_duty(&[sg], utc("2026-11-27T18:00:00Z")).len(), 1);
}

#[test]
fn a_handover_time_that_does_not_exist_that_day() {
    // New York 20:00-04:00 with the handover at 02:30: on the night of 2026-03-07 02:30 is
    // skipped, so the brief is due when the clock jumps (03:00 EDT = 07:00 UTC).
    let ny = site(
        "America/New_York",
        &["sat"],
        "20:00",
        "04:00",
        Some("02:30"),
    );
    let d = on(&ny, "2026-03-07");
    assert_eq!(d.handover, utc("2026-03-08T07:00:00Z"));
    assert!(d.start < d.handover && d.handover < d.end);
    // An ordinary Saturday: 02:30 EST = 07:30 UTC.
    assert_eq!(on(&ny, "2026-02-28").handover, utc("2026-03-01T07:30:00Z"));
}

#[test]
fn a_handover_time_that_exists_twice_that_day() {
    // New York 20:00-04:00 with the handover at 01:30: on 2026-11-01 01:30 happens twice;
    // the brief is due at the first (EDT, 05:30 UTC), never an hour late.
    let ny = site(
        "America/New_York",
        &["sat"],
        "20:00",
        "04:00",
        Some("01:30"),
    );
    let d = on(&ny, "2026-10-31");
    assert_eq!(d.handover, utc("2026-11-01T05:30:00Z"));
    assert_eq!(d.end, utc("2026-11-01T09:00:00Z"), "04:00 EST");
    // Santiago: handover 23:30 on 2026-04-04 happens twice; the first is 23:30 -03.
    let scl = site(
        "America/Santiago",
        &["sat"],
        "16:00",
        "02:00",
        Some("23:30"),
    );
    let d = on(&scl, "2026-04-04");
    assert_eq!(d.handover, utc("2026-04-05T02:30:00Z"));
}

#[test]
fn the_incoming_shift_is_found_across_a_dst_jump() {
    // Sydney's early shift 03:00-11:00 on the morning clocks go forward (02:00 -> 03:00):
    // at 02:30 UTC-equivalent before the start, the arrival window finds it.
    let syd = site("Australia/Sydney", ALL, "03:00", "11:00", None);
    let start = on(&syd, "2026-10-04").start;
    assert_eq!(start, utc("2026-10-03T16:00:00Z"), "03:00 AEDT");
    let found = current_or_next(&syd, start - 3_600_000, 2 * 3_600_000).expect("within 2 h");
    assert_eq!(found.start, start);
    assert!(current_or_next(&syd, start - 3 * 3_600_000, 2 * 3_600_000).is_none());
    assert_eq!(
        current_or_next(&syd, start + 60_000, 0).map(|d| d.start),
        Some(start)
    );
}
