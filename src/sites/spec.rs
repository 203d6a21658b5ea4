//! Site and shift definitions as written (TOML) and as checked.
//!
//! ```toml
//! [[site]]
//! name = "austin"
//! tz = "America/Chicago"
//! next = "singapore"
//! holidays = ["2026-12-25"]
//!
//! [[site.shift]]
//! name = "day"
//! days = ["mon", "tue", "wed", "thu", "fri"]
//! start = "08:00"
//! end = "17:00"          # an end before the start crosses midnight
//! handover = "16:30"     # when the handoff brief is due (default: 30 min before the end)
//! lead = "maria@example.com"
//! legal = "legal-oncall@example.com"
//! exec = "vp-care@example.com"
//! ```

use std::collections::BTreeSet;

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// One `[[site]]` as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    pub name: String,
    /// IANA zone, e.g. `Asia/Singapore`.
    pub tz: String,
    /// The site that takes over when this one's day ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Local dates (`2026-12-25`) on which the site has no shifts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<String>,
    #[serde(default, rename = "shift")]
    pub shifts: Vec<ShiftSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftSpec {
    pub name: String,
    /// `mon`..`sun`; the day the shift starts on.
    pub days: Vec<String>,
    /// Local `HH:MM`.
    pub start: String,
    /// Local `HH:MM`; before `start` = the shift ends the next day.
    pub end: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<String>,
}

/// A file of sites (`sunward sites add --file`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SitesFile {
    #[serde(default)]
    pub site: Vec<SiteSpec>,
}

/// On-call contacts of a shift, in escalation order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Contacts {
    pub lead: Option<String>,
    pub legal: Option<String>,
    pub exec: Option<String>,
}

/// A checked shift: minutes after local midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub name: String,
    #[serde(skip)]
    pub days: [bool; 7],
    pub start_min: u32,
    /// May be <= `start_min`: the shift ends on the next local day.
    pub end_min: u32,
    /// Minutes after the shift's start when the handoff brief is due.
    pub handover_after_min: u32,
    pub contacts: Contacts,
}

impl Shift {
    /// Length in minutes (a shift crossing midnight counts through it).
    pub fn length_min(&self) -> u32 {
        if self.end_min > self.start_min {
            self.end_min - self.start_min
        } else {
            1440 - self.start_min + self.end_min
        }
    }
    pub fn runs_on(&self, wd: Weekday) -> bool {
        self.days[wd.num_days_from_monday() as usize]
    }
}

/// A checked site.
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub name: String,
    #[serde(serialize_with = "ser_tz")]
    pub tz: Tz,
    pub next: Option<String>,
    #[serde(skip)]
    pub holidays: BTreeSet<NaiveDate>,
    pub shifts: Vec<Shift>,
}

fn ser_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

/// What is wrong with a site definition: which site, which field, and what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("site `{site}`, {field}: {message}")]
pub struct SpecError {
    pub site: String,
    pub field: String,
    pub message: String,
}

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A shift time: 00:00 to 23:59 (a shift ending at midnight ends at 00:00 and crosses it).
fn shift_time(s: &str) -> Option<u32> {
    crate::clock::parse_hhmm(s).filter(|m| *m < 1440)
}

/// Names appear in URLs and CLI arguments.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl SiteSpec {
    /// Checks the definition. Overlapping shifts of one site, impossible times and unknown
    /// zones are errors that name the field.
    pub fn check(&self) -> Result<Site, SpecError> {
        let err = |field: &str, message: String| SpecError {
            site: self.name.clone(),
            field: field.to_string(),
            message,
        };
        if !valid_name(&self.name) {
            return Err(err(
                "name",
                "use 1-64 lowercase letters, digits, `-` or `_` (e.g. `austin`)".into(),
            ));
        }
        let tz: Tz = self.tz.trim().parse().map_err(|_| {
            err(
                "tz",
                format!(
                    "unknown time zone `{}`; use an IANA name such as America/Chicago, Asia/Kolkata",
                    self.tz
                ),
            )
        })?;
        let holidays = self
            .holidays
            .iter()
            .map(|d| {
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| err("holidays", format!("`{d}` is not a date like 2026-12-25")))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        if self.shifts.is_empty() {
            return Err(err(
                "shift",
                "a site needs at least one [[site.shift]] (name, days, start, end)".into(),
            ));
        }
        let mut shifts: Vec<Shift> = Vec::new();
        for (i, s) in self.shifts.iter().enumerate() {
            let f = |what: &str| format!("shift[{i}] `{}`.{what}", s.name);
            if s.name.trim().is_empty() {
                return Err(err(&f("name"), "give the shift a name, e.g. `day`".into()));
            }
            if shifts.iter().any(|o| o.name == s.name) {
                return Err(err(
                    &f("name"),
                    "two shifts of this site have this name".into(),
                ));
            }
            let mut days = [false; 7];
            for d in &s.days {
                let k = DAYS
                    .iter()
                    .position(|x| x.eq_ignore_ascii_case(d.trim()))
                    .ok_or_else(|| {
                        err(
                            &f("days"),
                            format!("unknown day `{d}`; use mon, tue, wed, thu, fri, sat, sun"),
                        )
                    })?;
                days[k] = true;
            }
            if !days.iter().any(|d| *d) {
                return Err(err(
                    &f("days"),
                    "list at least one day, e.g. [\"mon\"]".into(),
                ));
            }
            let time = |what: &str, v: &str| {
                shift_time(v).ok_or_else(|| {
                    err(
                        &f(what),
                        format!("`{v}` is not a local time like 08:00 (00:00-23:59)"),
                    )
                })
            };
            let start_min = time("start", &s.start)?;
            let end_min = time("end", &s.end)?;
            if start_min == end_min {
                return Err(err(
                    &f("end"),
                    "a shift cannot start and end at the same time; a 24-hour shift is two shifts"
                        .into(),
                ));
            }
            let mut shift = Shift {
                name: s.name.clone(),
                days,
                start_min,
                end_min,
                handover_after_min: 0,
                contacts: Contacts {
                    lead: s.lead.clone(),
                    legal: s.legal.clone(),
                    exec: s.exec.clone(),
                },
            };
            let len = shift.length_min();
            shift.handover_after_min = match &s.handover {
                None => len.saturating_sub(30.min(len / 2)),
                Some(h) => {
                    let h = time("handover", h)?;
                    let after = (h + 1440 - start_min) % 1440;
                    if after >= len {
                        return Err(err(
                            &f("handover"),
                            format!(
                                "{} is not within the shift {}-{}",
                                s.handover.as_deref().unwrap_or(""),
                                s.start,
                                s.end
                            ),
                        ));
                    }
                    after
                }
            };
            for o in &shifts {
                if let Some(day) = overlap(o, &shift) {
                    return Err(err(
                        &f("start"),
                        format!(
                            "overlaps shift `{}` on {day}; shifts of one site may touch but not overlap",
                            o.name
                        ),
                    ));
                }
            }
            shifts.push(shift);
        }
        Ok(Site {
            name: self.name.clone(),
            tz,
            next: self.next.clone(),
            holidays,
            shifts,
        })
    }
}

/// Do two shifts of one site overlap in local time on some weekday? Compared on a local
/// week of minutes (DST does not change local-time overlap).
fn overlap(a: &Shift, b: &Shift) -> Option<&'static str> {
    const WEEK: u32 = 7 * 1440;
    let spans = |s: &Shift| -> Vec<(u32, u32, usize)> {
        (0..7)
            .filter(|d| s.days[*d])
            .map(|d| {
                let st = d as u32 * 1440 + s.start_min;
                (st, st + s.length_min(), d)
            })
            .collect()
    };
    for (a0, a1, d) in spans(a) {
        for (b0, b1, _) in spans(b) {
            // Compare on the week circle: shift b by -WEEK, 0, +WEEK.
            for off in [0i64, WEEK as i64, -(WEEK as i64)] {
                let (c0, c1) = (b0 as i64 + off, b1 as i64 + off);
                if (a0 as i64) < c1 && c0 < a1 as i64 {
                    return Some(DAYS[d]);
                }
            }
        }
    }
    None
}

/// Checks a set of sites together: unique names and `next` pointing at a site of the set.
pub fn check_all(specs: &[SiteSpec]) -> Result<Vec<Site>, SpecError> {
    let (sites, missing) = check_all_lenient(specs)?;
    match missing.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(sites),
    }
}

/// Like [`check_all`], but a `next` naming a site not (yet) defined is returned as a warning
/// instead of an error, so sites can be added one at a time in any order.
pub fn check_all_lenient(specs: &[SiteSpec]) -> Result<(Vec<Site>, Vec<SpecError>), SpecError> {
    let mut out: Vec<Site> = Vec::new();
    for s in specs {
        let site = s.check()?;
        if out.iter().any(|o| o.name == site.name) {
            return Err(SpecError {
                site: site.name,
                field: "name".into(),
                message: "two sites have this name".into(),
            });
        }
        out.push(site);
    }
    let mut missing = Vec::new();
    for s in &out {
        if let Some(n) = &s.next {
            if !out.iter().any(|o| &o.name == n) {
                missing.push(SpecError {
                    site: s.name.clone(),
                    field: "next".into(),
                    message: format!(
                        "no site named `{n}`; add it first or fix the name ({})",
                        out.iter()
                            .map(|o| o.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
    }
    Ok((out, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(shifts: &[(&str, &[&str], &str, &str)]) -> SiteSpec {
        SiteSpec {
            name: "austin".into(),
            tz: "America/Chicago".into(),
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
    }

    #[test]
    fn overlapping_and_impossible_shifts_name_the_field() {
        let e = spec(&[
            ("day", &["mon"], "08:00", "16:00"),
            ("late", &["mon"], "15:00", "23:00"),
        ])
        .check()
        .unwrap_err();
        assert_eq!(e.field, "shift[1] `late`.start");
        assert!(e.message.contains("overlaps shift `day` on mon"), "{e}");
        // Touching is fine; a night shift crossing into the next day's early shift is not.
        assert!(spec(&[
            ("day", &["mon"], "08:00", "16:00"),
            ("late", &["mon"], "16:00", "23:00")
        ])
        .check()
        .is_ok());
        let e = spec(&[
            ("night", &["sun"], "22:00", "06:00"),
            ("early", &["mon"], "05:00", "13:00"),
        ])
        .check()
        .unwrap_err();
        assert!(e.message.contains("overlaps"), "{e}");
        let e = spec(&[("day", &["mon"], "25:00", "16:00")])
            .check()
            .unwrap_err();
        assert_eq!(e.field, "shift[0] `day`.start");
        let e = spec(&[("day", &["funday"], "08:00", "16:00")])
            .check()
            .unwrap_err();
        assert!(e.message.contains("unknown day"), "{e}");
        let e = spec(&[("day", &["mon"], "08:00", "08:00")])
            .check()
            .unwrap_err();
        assert_eq!(e.field, "shift[0] `day`.end");
        let mut s = spec(&[("day", &["mon"], "08:00", "16:00")]);
        s.tz = "Mars/Olympus".into();
        assert_eq!(s.check().unwrap_err().field, "tz");
        s.tz = "Asia/Kolkata".into();
        s.shifts.clear();
        assert_eq!(s.check().unwrap_err().field, "shift");
    }

    #[test]
    fn next_must_exist_and_names_are_unique() {
        let mut a = spec(&[("day", &["mon"], "08:00", "16:00")]);
        a.next = Some("nowhere".into());
        let e = check_all(&[a.clone()]).unwrap_err();
        assert_eq!(e.field, "next");
        a.next = None;
        assert_eq!(check_all(&[a.clone(), a]).unwrap_err().field, "name");
    }
}
