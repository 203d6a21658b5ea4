//! Scenes: other screens for other times (day shift, night shift, weekend). A scene matches by
//! the local wall-clock time and weekday in the profile's time zone, so it follows daylight
//! saving time: "08:00" is 08:00 local on both sides of a DST change.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use serde::Serialize;

use super::profile::{Screen, WallProfile};

/// A named set of screens for some hours of some days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scene {
    pub name: String,
    /// Days the scene starts on (monday = 0). A span crossing midnight belongs to its start day.
    #[serde(serialize_with = "ser_days")]
    pub days: Vec<Weekday>,
    /// Local minutes after midnight: from (inclusive) .. to (exclusive). `to <= from` crosses
    /// midnight; `from == to` is the whole day.
    pub from_minute: u32,
    pub to_minute: u32,
    pub screens: Vec<Screen>,
}

fn ser_days<S: serde::Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(days.len()))?;
    for d in days {
        seq.serialize_element(&day_name(*d))?;
    }
    seq.end()
}

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// `["mon", "weekend", ...]` -> weekdays; empty = every day. Err = the first unknown name.
pub fn parse_days(names: &[String]) -> Result<Vec<Weekday>, String> {
    use Weekday::*;
    if names.is_empty() {
        return Ok(vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun]);
    }
    let mut out = Vec::new();
    for n in names {
        let add: &[Weekday] = match n.trim().to_ascii_lowercase().as_str() {
            "mon" | "monday" => &[Mon],
            "tue" | "tuesday" => &[Tue],
            "wed" | "wednesday" => &[Wed],
            "thu" | "thursday" => &[Thu],
            "fri" | "friday" => &[Fri],
            "sat" | "saturday" => &[Sat],
            "sun" | "sunday" => &[Sun],
            "weekdays" => &[Mon, Tue, Wed, Thu, Fri],
            "weekend" => &[Sat, Sun],
            "daily" | "all" => &[Mon, Tue, Wed, Thu, Fri, Sat, Sun],
            _ => return Err(n.clone()),
        };
        for d in add {
            if !out.contains(d) {
                out.push(*d);
            }
        }
    }
    Ok(out)
}

/// `"HH:MM"` -> minutes after midnight; `"24:00"` = 1440.
pub use crate::clock::parse_hhmm;

impl Scene {
    /// Does the scene cover local weekday `day` at local minute `minute`?
    pub fn covers(&self, day: Weekday, minute: u32) -> bool {
        let (from, to) = (self.from_minute, self.to_minute.min(1440));
        if from == to || (from == 0 && to == 1440) {
            return self.days.contains(&day);
        }
        if from < to {
            return self.days.contains(&day) && minute >= from && minute < to;
        }
        // Crosses midnight: the evening part on its own day, the morning part on the next day.
        (minute >= from && self.days.contains(&day))
            || (minute < to && self.days.contains(&day.pred()))
    }
}

impl WallProfile {
    /// The first scene that covers `now` in the profile's time zone.
    pub fn scene_at(&self, now: DateTime<Utc>) -> Option<&Scene> {
        let local = now.with_timezone(&self.tz());
        let minute = local.hour() * 60 + local.minute();
        let day = local.weekday();
        self.scenes.iter().find(|s| s.covers(day, minute))
    }

    /// The profile as it stands at `now`: the matching scene's screens (or the base screens),
    /// with `active_scene` set.
    pub fn at(&self, now: DateTime<Utc>) -> WallProfile {
        let mut p = self.clone();
        if let Some(scene) = self.scene_at(now) {
            p.screens = scene.screens.clone();
            p.active_scene = Some(scene.name.clone());
        }
        p
    }

    /// The next instant after `now` at which the active scene changes (searched minute by
    /// minute up to 8 days ahead; `None` when it never changes).
    pub fn next_scene_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.scenes.is_empty() {
            return None;
        }
        let current = self.scene_at(now).map(|s| s.name.clone());
        let start = now
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now);
        (1..=8 * 24 * 60)
            .map(|m| start + Duration::minutes(m))
            .find(|t| self.scene_at(*t).map(|s| s.name.clone()) != current)
    }
}

/// Local time `hh:mm` of `tz` on the date of `now` there, as UTC (for clocks and shifts);
/// `None` when that local time does not exist (skipped by a DST change).
pub fn local_to_utc(tz: chrono_tz::Tz, now: DateTime<Utc>, minute: u32) -> Option<DateTime<Utc>> {
    let date = now.with_timezone(&tz).date_naive();
    let t = NaiveTime::from_hms_opt(minute / 60 % 24, minute % 60, 0)?;
    tz.from_local_datetime(&date.and_time(t))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const PROFILE: &str = r#"
name = "center"
timezone = "Europe/Berlin"
[[screens]]
index = 0
views = ["volume"]

[[scenes]]
name = "weekend"
days = ["weekend"]
[[scenes.screens]]
index = 0
views = ["kpi"]

[[scenes]]
name = "night"
days = ["weekdays"]
from = "20:00"
to = "08:00"
[[scenes.screens]]
index = 0
views = ["stream"]

[[scenes]]
name = "day"
days = ["weekdays"]
from = "08:00"
to = "20:00"
[[scenes.screens]]
index = 0
views = ["sentiment"]
"#;

    fn profile() -> WallProfile {
        WallProfile::from_toml(PROFILE).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn scene(p: &WallProfile, t: DateTime<Utc>) -> Option<String> {
        p.scene_at(t).map(|s| s.name.clone())
    }

    #[test]
    fn day_night_and_weekend_by_local_time() {
        let p = profile();
        // Wed 2026-01-14, Berlin is UTC+1 in winter.
        assert_eq!(scene(&p, utc(2026, 1, 14, 6, 59)).as_deref(), Some("night"));
        assert_eq!(scene(&p, utc(2026, 1, 14, 7, 0)).as_deref(), Some("day"));
        assert_eq!(scene(&p, utc(2026, 1, 14, 18, 59)).as_deref(), Some("day"));
        assert_eq!(scene(&p, utc(2026, 1, 14, 19, 0)).as_deref(), Some("night"));
        // Friday night runs into Saturday morning; the weekend scene comes first in the file.
        assert_eq!(scene(&p, utc(2026, 1, 16, 22, 0)).as_deref(), Some("night"));
        assert_eq!(
            scene(&p, utc(2026, 1, 17, 3, 0)).as_deref(),
            Some("weekend")
        );
        // Monday 07:00 local: the night before began on a Sunday, which is not a weekday,
        // so no scene covers it and the base screens show.
        assert_eq!(scene(&p, utc(2026, 1, 19, 6, 0)), None);
        assert_eq!(p.at(utc(2026, 1, 19, 6, 0)).screens[0].views, ["volume"]);
        assert_eq!(p.at(utc(2026, 1, 19, 9, 0)).screens[0].views, ["sentiment"]);
        assert_eq!(
            p.at(utc(2026, 1, 19, 9, 0)).active_scene.as_deref(),
            Some("day")
        );
    }

    #[test]
    fn summer_time_moves_the_switch_in_utc() {
        let p = profile();
        // Wed 2026-07-15: Berlin is UTC+2, the day scene starts at 06:00 UTC.
        assert_eq!(scene(&p, utc(2026, 7, 15, 5, 59)).as_deref(), Some("night"));
        assert_eq!(scene(&p, utc(2026, 7, 15, 6, 0)).as_deref(), Some("day"));
    }

    #[test]
    fn dst_change_days_switch_at_local_wall_clock_time() {
        // A profile whose scene starts inside the skipped and the repeated hour.
        let p = WallProfile::from_toml(
            r#"
name = "dst"
timezone = "Europe/Berlin"
[[screens]]
index = 0
views = ["volume"]
[[scenes]]
name = "early"
from = "02:30"
to = "04:00"
[[scenes.screens]]
index = 0
views = ["stream"]
"#,
        )
        .unwrap();
        // Spring forward, Sun 2026-03-29: 02:00 local jumps to 03:00 (00:59 UTC -> 01:00 UTC
        // is 01:59 CET -> 03:00 CEST). 02:30 never happens; the scene starts at 03:00 local.
        assert_eq!(scene(&p, utc(2026, 3, 29, 0, 59)), None); // 01:59 CET
        assert_eq!(scene(&p, utc(2026, 3, 29, 1, 0)).as_deref(), Some("early")); // 03:00 CEST
        assert_eq!(scene(&p, utc(2026, 3, 29, 1, 59)).as_deref(), Some("early")); // 03:59 CEST
        assert_eq!(scene(&p, utc(2026, 3, 29, 2, 0)), None); // 04:00 CEST
        assert_eq!(
            p.next_scene_change(utc(2026, 3, 29, 0, 30)),
            Some(utc(2026, 3, 29, 1, 0))
        );
        // Fall back, Sun 2026-10-25: 03:00 CEST -> 02:00 CET, so 02:00-02:59 local happens
        // twice. Wall-clock matching covers 02:30-02:59 in both passes, and the repeated
        // 02:00-02:29 in between is outside the scene, as it is on any other day.
        assert_eq!(scene(&p, utc(2026, 10, 25, 0, 29)), None); // 02:29 CEST
        assert_eq!(
            scene(&p, utc(2026, 10, 25, 0, 30)).as_deref(),
            Some("early")
        ); // 02:30 CEST
        assert_eq!(scene(&p, utc(2026, 10, 25, 1, 15)), None); // 02:15 CET (repeated hour)
        assert_eq!(
            scene(&p, utc(2026, 10, 25, 1, 30)).as_deref(),
            Some("early")
        ); // 02:30 CET
        assert_eq!(
            scene(&p, utc(2026, 10, 25, 2, 59)).as_deref(),
            Some("early")
        ); // 03:59 CET
        assert_eq!(scene(&p, utc(2026, 10, 25, 3, 0)), None); // 04:00 CET
                                                              // An ordinary day: 02:30-04:00 local = 00:30-02:00 UTC in summer.
        assert_eq!(scene(&p, utc(2026, 8, 2, 0, 30)).as_deref(), Some("early"));
        assert_eq!(scene(&p, utc(2026, 8, 2, 2, 0)), None);
    }

    #[test]
    fn other_zones_and_the_date_line() {
        let mut p = profile();
        p.timezone = Some("Pacific/Auckland".into());
        // Fri 2026-01-16 20:00 UTC = Sat 09:00 NZDT: weekend there.
        assert_eq!(
            scene(&p, utc(2026, 1, 16, 20, 0)).as_deref(),
            Some("weekend")
        );
        p.timezone = Some("America/Los_Angeles".into());
        // Sat 2026-01-17 03:00 UTC = Fri 19:00 PST: still the Friday day scene.
        assert_eq!(scene(&p, utc(2026, 1, 17, 3, 0)).as_deref(), Some("day"));
    }

    #[test]
    fn times_and_days_parse_strictly() {
        assert_eq!(parse_hhmm("08:00"), Some(480));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("7:05"), Some(425));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("12:60"), None);
        assert_eq!(parse_hhmm("noon"), None);
        assert_eq!(
            parse_days(&["weekend".into(), "sat".into()]).unwrap().len(),
            2
        );
        assert_eq!(parse_days(&[]).unwrap().len(), 7);
        assert_eq!(parse_days(&["someday".into()]), Err("someday".into()));
    }

    #[test]
    fn local_times_of_a_site() {
        let tz: chrono_tz::Tz = "Asia/Manila".parse().unwrap();
        let t = local_to_utc(tz, utc(2026, 1, 14, 12, 0), 8 * 60).unwrap();
        assert_eq!(t, utc(2026, 1, 14, 0, 0));
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        // 02:30 does not exist on the spring-forward day.
        assert_eq!(local_to_utc(berlin, utc(2026, 3, 29, 12, 0), 150), None);
    }
}
