//! The expected volume of one topic or channel, by hour of day and day of week, learned from
//! its own history.
//!
//! Expected stories in hour `h` = a robust mean of the same hour on each of the previous
//! `history_days` days (values above `2 x median + 3` are capped, so an earlier spike does not
//! teach the baseline to expect spikes), times a day-of-week factor once a week is known
//! (the median of the same weekday's totals over the median of all days' totals, clamped to
//! 0.5..2). Hours without posts count as zero once the series has started.

use std::collections::{BTreeMap, HashMap};

const HOUR: i64 = 3_600_000;
const DAY_HOURS: i64 = 24;
/// Weeks of the same hour of week blended into the expectation.
const WEEKS_BACK: i64 = 4;

#[derive(Debug, Clone, Copy, Default)]
pub struct HourAgg {
    pub total: u32,
    pub negative: u32,
    /// Stories with a crisis term; only meaningful with `terms_known` (hours warmed from stored
    /// rollups do not know them).
    pub terms: u32,
    pub terms_known: bool,
}

#[derive(Debug, Default)]
pub struct Baseline {
    hours: BTreeMap<i64, HourAgg>,
    days: BTreeMap<i64, u64>,
    first_hour: Option<i64>,
    cache: HashMap<i64, Option<f64>>,
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Baseline {
    /// Records a closed hour (`hour` = ms / 3,600,000) of real (non-drill) counts.
    pub fn record(&mut self, hour: i64, agg: HourAgg) {
        if self.first_hour.map_or(true, |f| hour < f) {
            self.first_hour = Some(hour);
        }
        let e = self.hours.entry(hour).or_default();
        e.total += agg.total;
        e.negative += agg.negative;
        e.terms += agg.terms;
        e.terms_known |= agg.terms_known;
        *self.days.entry(hour.div_euclid(DAY_HOURS)).or_default() += agg.total as u64;
        self.cache.clear();
    }

    /// Notes that the series exists from `hour` on, even if it was quiet (zeros count).
    pub fn start_at(&mut self, hour: i64) {
        if self.first_hour.map_or(true, |f| hour < f) {
            self.first_hour = Some(hour);
            self.cache.clear();
        }
    }

    /// Days of history behind the expectation for `hour` (0 before the series started, at most
    /// `history_days`): fewer days, a less certain expectation.
    pub fn days_known(&self, hour: i64, history_days: i64) -> i64 {
        self.first_hour
            .map_or(0, |f| (hour - f).div_euclid(DAY_HOURS))
            .clamp(0, history_days.max(0))
    }

    /// Share of stories with a crisis term over the `days` before `hour` (hours that know
    /// them), and the stories it rests on.
    pub fn terms_share(&self, hour: i64, days: i64) -> (f64, u64) {
        let (mut n, mut t) = (0u64, 0u64);
        for (_, a) in self
            .hours
            .range(hour - days * DAY_HOURS..hour)
            .filter(|(_, a)| a.terms_known)
        {
            n += a.total as u64;
            t += a.terms as u64;
        }
        if n == 0 {
            (0.0, 0)
        } else {
            (t as f64 / n as f64, n)
        }
    }

    /// Drops history older than `keep_days` before `hour`.
    pub fn prune(&mut self, hour: i64, keep_days: i64) {
        let cut = hour - keep_days * DAY_HOURS;
        self.hours = self.hours.split_off(&cut);
        self.days = self.days.split_off(&cut.div_euclid(DAY_HOURS));
        if let Some(f) = self.first_hour {
            self.first_hour = Some(f.max(cut));
        }
    }

    /// Expected stories in `hour`, or None while fewer than `warmup_days` earlier days are known.
    pub fn expected_hour(&mut self, hour: i64, history_days: i64, warmup_days: i64) -> Option<f64> {
        if let Some(v) = self.cache.get(&hour) {
            return *v;
        }
        let v = self.compute(hour, history_days, warmup_days);
        if self.cache.len() > 256 {
            self.cache.clear();
        }
        self.cache.insert(hour, v);
        v
    }

    fn compute(&self, hour: i64, history_days: i64, warmup_days: i64) -> Option<f64> {
        let first = self.first_hour?;
        let mut vals: Vec<f64> = (1..=history_days)
            .map(|d| hour - d * DAY_HOURS)
            .filter(|h| *h >= first)
            .map(|h| self.hours.get(&h).map_or(0.0, |a| a.total as f64))
            .collect();
        if (vals.len() as i64) < warmup_days.max(1) {
            return None;
        }
        let m = median(&mut vals.clone());
        let cap = 2.0 * m + 3.0;
        let base = vals.iter_mut().map(|v| v.min(cap)).sum::<f64>() / vals.len() as f64;
        let product = base * self.weekday_factor(hour, first);
        // The same hour of the same weekday in the weeks before (Monday 08:00 is not Sunday
        // 08:00 times a day factor): once two such weeks are known, blend them in, capped the
        // same way against earlier spikes, weighted by how many there are.
        let week: Vec<f64> = (1..=WEEKS_BACK)
            .map(|w| hour - w * 7 * DAY_HOURS)
            .filter(|h| *h >= first)
            .map(|h| self.hours.get(&h).map_or(0.0, |a| a.total as f64))
            .collect();
        if week.len() < 2 {
            return Some(product);
        }
        let wm = median(&mut week.clone());
        let wcap = (2.0 * wm + 3.0).min(cap.max(2.0 * product + 3.0));
        let n = week.len() as f64;
        let weekly = week.iter().map(|v| v.min(wcap)).sum::<f64>() / n;
        Some((n * weekly + 2.0 * product) / (n + 2.0))
    }

    fn weekday_factor(&self, hour: i64, first: i64) -> f64 {
        let day = hour.div_euclid(DAY_HOURS);
        let first_full_day = (first + DAY_HOURS - 1).div_euclid(DAY_HOURS);
        if day - first_full_day < 7 {
            return 1.0;
        }
        let total = |d: i64| self.days.get(&d).copied().unwrap_or(0) as f64;
        let mut same: Vec<f64> = (1..=4)
            .map(|w| day - 7 * w)
            .filter(|d| *d >= first_full_day)
            .map(total)
            .collect();
        let mut all: Vec<f64> = (1..=14)
            .map(|d| day - d)
            .filter(|d| *d >= first_full_day)
            .map(total)
            .collect();
        let (s, a) = (median(&mut same), median(&mut all));
        if a <= 0.0 || same.is_empty() {
            return 1.0;
        }
        (s / a).clamp(0.5, 2.0)
    }

    /// Expected stories per minute at `t` (ms), interpolated between hour centers so the
    /// expectation has no steps at the top of the hour.
    pub fn expected_minute(&mut self, t: i64, history_days: i64, warmup_days: i64) -> Option<f64> {
        let h = t.div_euclid(HOUR);
        let frac = t.rem_euclid(HOUR) as f64 / HOUR as f64;
        let here = self.expected_hour(h, history_days, warmup_days)?;
        let (other, w) = if frac < 0.5 {
            (h - 1, 0.5 - frac)
        } else {
            (h + 1, frac - 0.5)
        };
        let there = self
            .expected_hour(other, history_days, warmup_days)
            .unwrap_or(here);
        Some((here * (1.0 - w) + there * w) / 60.0)
    }

    /// The share of negative stories over the `days` before `hour`, and the total it rests on.
    pub fn negative_share(&self, hour: i64, days: i64) -> (f64, u64) {
        let (mut n, mut neg) = (0u64, 0u64);
        for (_, a) in self.hours.range(hour - days * DAY_HOURS..hour) {
            n += a.total as u64;
            neg += a.negative as u64;
        }
        if n == 0 {
            (0.0, 0)
        } else {
            (neg as f64 / n as f64, n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A day shape: quiet nights (2/h), busy afternoons (60/h).
    fn shape(hour_of_day: i64) -> u32 {
        match hour_of_day {
            0..=5 => 2,
            6..=11 => 30,
            12..=18 => 60,
            _ => 20,
        }
    }

    fn learned(days: i64) -> Baseline {
        let mut b = Baseline::default();
        for h in 0..days * 24 {
            b.record(
                h,
                HourAgg {
                    total: shape(h % 24),
                    negative: shape(h % 24) / 4,
                    ..HourAgg::default()
                },
            );
        }
        b
    }

    #[test]
    fn knows_the_time_of_day() {
        let mut b = learned(10);
        let day = 10 * 24;
        assert_eq!(b.expected_hour(day + 3, 14, 3), Some(2.0));
        assert_eq!(b.expected_hour(day + 14, 14, 3), Some(60.0));
        // The minute rate at 14:30 is the afternoon rate.
        let t = (day + 14) * HOUR + 30 * 60_000;
        assert!((b.expected_minute(t, 14, 3).unwrap() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn needs_warmup() {
        let mut b = learned(2);
        assert_eq!(b.expected_hour(2 * 24 + 14, 14, 3), None);
    }

    #[test]
    fn earlier_spikes_do_not_raise_the_baseline_much() {
        let mut b = learned(10);
        // Yesterday 14:00 had a 20x spike.
        b.record(
            9 * 24 + 14,
            HourAgg {
                total: 1140,
                negative: 900,
                ..HourAgg::default()
            },
        );
        let e = b.expected_hour(10 * 24 + 14, 14, 3).unwrap();
        // Capped at 2 x median + 3 = 123: the mean moves by at most (123-60)/10.
        assert!(e < 60.0 + 6.4, "expected {e}");
    }

    /// `days` of history with weekends (days 5, 6 of each week) at half volume.
    fn quiet_weekends(days: i64) -> Baseline {
        let mut b = Baseline::default();
        for h in 0..days * 24 {
            let v = if (h / 24) % 7 >= 5 { 30 } else { 60 };
            b.record(
                h,
                HourAgg {
                    total: v,
                    ..HourAgg::default()
                },
            );
        }
        b
    }

    #[test]
    fn weekday_factor_after_two_weeks() {
        let mut b = quiet_weekends(28);
        let sat = (28 + 5) * 24 + 12;
        let mon = 28 * 24 + 12;
        let (es, em) = (
            b.expected_hour(sat, 14, 3).unwrap(),
            b.expected_hour(mon, 14, 3).unwrap(),
        );
        assert!(es < em * 0.75, "saturday {es} monday {em}");
    }

    #[test]
    fn weekday_factor_after_one_week() {
        // Twelve days of history, one weekend at half volume: the second Saturday is expected
        // quieter than the weekdays before it (it took two weeks before session 4).
        let mut b = quiet_weekends(12);
        let (sat, fri) = ((7 + 5) * 24 + 12, (7 + 4) * 24 + 12);
        let es = b.expected_hour(sat, 14, 3).unwrap();
        let ef = b.expected_hour(fri, 14, 3).unwrap();
        assert!(es < ef * 0.75, "saturday {es} friday {ef}");
    }

    #[test]
    fn negative_share_over_days() {
        let b = learned(3);
        let (share, n) = b.negative_share(72, 7);
        assert!(n > 0);
        assert!((0.2..0.3).contains(&share), "{share}");
    }

    #[test]
    fn knows_the_hour_of_the_week() {
        // Weekday mornings at 08:00 are busy (60/h), Sunday morning at 08:00 is quiet (6/h);
        // every other hour is 20/h every day, so day totals barely differ.
        let mut b = Baseline::default();
        let hour_of = |h: i64| {
            if h % 24 == 8 {
                if (h / 24) % 7 == 6 {
                    6
                } else {
                    60
                }
            } else {
                20
            }
        };
        for h in 0..28 * 24 {
            b.record(
                h,
                HourAgg {
                    total: hour_of(h),
                    ..HourAgg::default()
                },
            );
        }
        let sunday_8 = (28 + 6) * 24 + 8;
        let monday_8 = 28 * 24 + 8;
        let (es, em) = (
            b.expected_hour(sunday_8, 14, 3).unwrap(),
            b.expected_hour(monday_8, 14, 3).unwrap(),
        );
        // Same hour of day alone would expect ~52 on Sunday; the weeks before say 6.
        assert!(es < 25.0, "sunday {es}");
        assert!(em > 50.0, "monday {em}");
        assert_eq!(b.days_known(sunday_8, 14), 14);
    }
}
