//! The built-in demo: a scenario generator of our own for a fictional airline, Skylark Air.
//! A daily volume curve, a channel mix, texts we wrote, and occasional bursts (a storm night of
//! delays, an app outage), so a fresh install shows a live wall. Nothing here comes from real data.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::model::{Author, Mention};

/// Where bursts come from: a topic and the texts that make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    Delays,
    Baggage,
    Refunds,
    App,
    Crew,
    Chatter,
}

const CHANNELS: &[(&str, u32)] = &[
    ("x", 40),
    ("mastodon", 14),
    ("bluesky", 16),
    ("reddit", 10),
    ("rss", 8),
    ("reviews", 12),
];

const NEGATIVE: &[(Theme, &str)] = &[
    (Theme::Delays, "Flight SK{n} delayed again, third time this month. Nobody at the gate can tell us anything."),
    (Theme::Delays, "@SkylarkAir my flight got cancelled and the rebooking line has had me on hold for 2 hours"),
    (Theme::Delays, "Stuck at the airport overnight because SK{n} was cancelled. No hotel, no voucher, nothing."),
    (Theme::Delays, "Still waiting on the tarmac. 90 minutes. Thanks for nothing @SkylarkAir"),
    (Theme::Baggage, "@SkylarkAir lost my bag on SK{n} and the tracking page says nothing for 3 days now"),
    (Theme::Baggage, "My suitcase arrived broken and soaked. Who do I even talk to?"),
    (Theme::Baggage, "Day 4 without my luggage. The claim number you gave me doesn't work."),
    (Theme::Refunds, "Charged twice for the same seat upgrade and still no refund after 6 weeks @SkylarkAir"),
    (Theme::Refunds, "Your refund form keeps failing. I want my money back for a flight you cancelled."),
    (Theme::App, "The Skylark app crashes every time I open my boarding pass. At the gate now. Great."),
    (Theme::App, "Online check-in is down again?? The website just spins."),
    (Theme::Crew, "The agent at the desk was rude and told me it's not her problem. Unacceptable."),
    (Theme::Chatter, "Worst airline experience I have had in years. Never again, Skylark."),
];

const NEUTRAL: &[(Theme, &str)] = &[
    (
        Theme::Delays,
        "Does anyone know if SK{n} from Lisbon is running on time today?",
    ),
    (
        Theme::Baggage,
        "What's the carry-on size limit on Skylark Air regional flights?",
    ),
    (
        Theme::Refunds,
        "How long does a Skylark refund usually take to show up on a card?",
    ),
    (
        Theme::App,
        "Is there a way to add my loyalty number in the Skylark app after booking?",
    ),
    (
        Theme::Crew,
        "Skylark is hiring flight attendants in three new bases, per their blog.",
    ),
    (
        Theme::Chatter,
        "Skylark Air announces a new route to Porto starting in spring.",
    ),
    (
        Theme::Chatter,
        "Flying Skylark tomorrow morning, first time with them.",
    ),
    (
        Theme::Chatter,
        "Reading the Skylark Air quarterly traffic report.",
    ),
];

const POSITIVE: &[(Theme, &str)] = &[
    (
        Theme::Crew,
        "Huge thanks to the crew on SK{n}, they took such good care of my kids. Lovely flight!",
    ),
    (
        Theme::Crew,
        "Shout out to the Skylark agent who rebooked me in two minutes. Amazing service.",
    ),
    (
        Theme::Delays,
        "Landed 20 minutes early on SK{n}, smooth flight, great job @SkylarkAir",
    ),
    (
        Theme::App,
        "The new Skylark app is really good, boarding pass in one tap. Love it.",
    ),
    (
        Theme::Refunds,
        "Got my refund from Skylark within 3 days, impressed. Thank you!",
    ),
    (
        Theme::Baggage,
        "My bag was first on the belt. Skylark, you made my day.",
    ),
    (
        Theme::Chatter,
        "Best coffee I've had on a plane, well done Skylark",
    ),
];

// Openers and closers that do not change what a post means, so bursts do not read as one
// post copied a hundred times.
const OPENERS: &[&str] = &[
    "",
    "",
    "",
    "Hey @SkylarkAir ",
    "Update: ",
    "So... ",
    "PSA: ",
    "Honest question. ",
];
const CLOSERS: &[&str] = &[
    "",
    "",
    "",
    " #SkylarkAir",
    " Anyone else?",
    " (from {city})",
    " via {city}",
    " #travel",
];
const CITIES: &[&str] = &[
    "Lisbon", "Madrid", "Dublin", "Lyon", "Porto", "Berlin", "Oslo", "Milan", "Seville", "Vienna",
];

const FIRST: &[&str] = &[
    "sam", "ana", "li", "omar", "jo", "priya", "kai", "mia", "tom", "nour", "eva", "raj", "zoe",
    "ben", "ines", "yuki",
];
const LAST: &[&str] = &[
    "travels", "_fly", "k", "writes", "88", "_bcn", "onthego", "_lis", "mx", "_dev", "photo",
    "_eats",
];

/// A burst: a theme takes over for a while, mostly negative.
#[derive(Debug, Clone, Copy)]
struct Burst {
    theme: Theme,
    until_ms: i64,
    factor: f64,
}

/// Generates demo mentions in event time; `tick` is called by the live loop, `range` by backfill.
pub struct Generator {
    rng: StdRng,
    seq: u64,
    run: u32,
    burst: Option<Burst>,
    next_burst_ms: i64,
    /// Mean mentions per minute at the daily peak.
    pub peak_per_minute: f64,
}

impl Generator {
    pub fn new(seed: u64, start_ms: i64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let run = rng.gen();
        let next_burst_ms = start_ms + rng.gen_range(5..25) * 60_000;
        Generator {
            rng,
            seq: 0,
            run,
            burst: None,
            next_burst_ms,
            peak_per_minute: 120.0,
        }
    }

    /// Mentions per minute expected at `ms`: a daily curve (trough around 04:00 UTC, peak in the
    /// evening) times the burst factor.
    pub fn rate_per_minute(&self, ms: i64) -> f64 {
        let hour = (ms.rem_euclid(86_400_000)) as f64 / 3_600_000.0;
        let daily = 0.55 - 0.45 * ((hour - 4.0) / 24.0 * std::f64::consts::TAU).cos();
        let burst = match self.burst {
            Some(b) if ms < b.until_ms => b.factor,
            _ => 1.0,
        };
        self.peak_per_minute * daily.max(0.08) * burst
    }

    fn update_burst(&mut self, ms: i64) {
        if let Some(b) = self.burst {
            if ms >= b.until_ms {
                self.burst = None;
            }
        }
        if self.burst.is_none() && ms >= self.next_burst_ms {
            let theme = *[
                Theme::Delays,
                Theme::Delays,
                Theme::Baggage,
                Theme::App,
                Theme::Refunds,
            ]
            .choose(&mut self.rng)
            .unwrap_or(&Theme::Delays);
            let minutes = self.rng.gen_range(4..12);
            self.burst = Some(Burst {
                theme,
                until_ms: ms + minutes * 60_000,
                factor: self.rng.gen_range(2.5..5.0),
            });
            self.next_burst_ms = ms + self.rng.gen_range(20..45) * 60_000;
        }
    }

    /// Mentions with event times in `[from_ms, to_ms)`, as a Poisson-like process at the rate.
    pub fn range(&mut self, from_ms: i64, to_ms: i64) -> Vec<Mention> {
        let mut out = Vec::new();
        let mut t = from_ms;
        while t < to_ms {
            let step = (to_ms - t).min(1000);
            self.update_burst(t);
            let expected = self.rate_per_minute(t) * step as f64 / 60_000.0;
            let n = poisson(&mut self.rng, expected);
            for _ in 0..n {
                let at = t + self.rng.gen_range(0..step.max(1));
                out.push(self.mention(at));
            }
            t += step;
        }
        out.sort_by_key(|m| m.created_at);
        out
    }

    fn mention(&mut self, at: i64) -> Mention {
        self.seq += 1;
        let in_burst = self.burst.filter(|b| at < b.until_ms);
        let roll: f64 = self.rng.gen();
        let (pool, theme_pref) = match in_burst {
            Some(b) if roll < 0.75 => (NEGATIVE, Some(b.theme)),
            Some(b) => (NEUTRAL, Some(b.theme)),
            None if roll < 0.38 => (NEGATIVE, None),
            None if roll < 0.72 => (NEUTRAL, None),
            None => (POSITIVE, None),
        };
        let candidates: Vec<&(Theme, &str)> = match theme_pref {
            Some(th) => {
                let c: Vec<_> = pool.iter().filter(|(t, _)| *t == th).collect();
                if c.is_empty() {
                    pool.iter().collect()
                } else {
                    c
                }
            }
            None => pool.iter().collect(),
        };
        let template = candidates
            .choose(&mut self.rng)
            .map(|(_, s)| *s)
            .unwrap_or("Skylark Air");
        let flight = self.rng.gen_range(100..999);
        let opener = OPENERS.choose(&mut self.rng).unwrap_or(&"");
        let closer = CLOSERS.choose(&mut self.rng).unwrap_or(&"");
        let city = CITIES.choose(&mut self.rng).unwrap_or(&"Lisbon");
        let text = format!("{opener}{template}{closer}")
            .replace("{n}", &flight.to_string())
            .replace("{city}", city);
        let channel = weighted(&mut self.rng, CHANNELS);
        let handle = format!(
            "{}{}",
            FIRST.choose(&mut self.rng).unwrap_or(&"user"),
            LAST.choose(&mut self.rng).unwrap_or(&"")
        );
        // Followers are heavy-tailed: most have hundreds, a few have hundreds of thousands.
        let followers = (10f64
            .powf(self.rng.gen_range(0.5..3.2) + if self.rng.gen_bool(0.03) { 2.5 } else { 0.0 }))
            as u64;
        Mention {
            source: "demo".into(),
            source_id: format!("{:08x}-{}", self.run, self.seq),
            channel: channel.to_string(),
            created_at: at,
            text,
            author: Author {
                handle: Some(handle),
                name: None,
                followers: Some(followers),
                verified: followers > 50_000,
            },
            url: None,
            lang: Some("en".into()),
            in_reply_to: None,
            topics: Vec::new(),
            inbound: Some(true),
        }
    }
}

fn weighted<'a>(rng: &mut StdRng, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut r = rng.gen_range(0..total.max(1));
    for (name, w) in items {
        if r < *w {
            return name;
        }
        r -= w;
    }
    items.first().map(|i| i.0).unwrap_or("x")
}

/// Knuth's method; fine for the small means of one second of demo traffic.
fn poisson(rng: &mut StdRng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        return mean.round() as u32;
    }
    let l = (-mean).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= rng.gen::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00Z

    #[test]
    fn same_seed_same_scenario() {
        let a = Generator::new(7, T0).range(T0, T0 + 600_000);
        let b = Generator::new(7, T0).range(T0, T0 + 600_000);
        assert_eq!(a, b);
        assert!(!a.is_empty());
    }

    #[test]
    fn daily_curve_peaks_in_the_evening() {
        let g = Generator::new(1, T0);
        let night = g.rate_per_minute(T0 + 4 * 3_600_000);
        let evening = g.rate_per_minute(T0 + 16 * 3_600_000);
        assert!(evening > night * 4.0, "night {night} evening {evening}");
    }

    #[test]
    fn an_hour_has_bursts_channels_and_unique_ids() {
        let mut g = Generator::new(3, T0 + 15 * 3_600_000);
        let ms = g.range(T0 + 15 * 3_600_000, T0 + 17 * 3_600_000);
        let ids: std::collections::HashSet<_> = ms.iter().map(|m| &m.source_id).collect();
        assert_eq!(ids.len(), ms.len());
        let channels: std::collections::HashSet<_> =
            ms.iter().map(|m| m.channel.as_str()).collect();
        assert!(channels.len() >= 5, "{channels:?}");
        assert!(ms.windows(2).all(|w| w[0].created_at <= w[1].created_at));
        // 2 evening hours at ~100/min, bursts included.
        assert!(ms.len() > 6_000, "{}", ms.len());
    }
}
