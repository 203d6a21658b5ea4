//! Read side of the per-minute rollups: the volume and sentiment views the walls show.
//! (The write side is in the store: rollups are updated in the same transaction as mentions.)

use serde::Serialize;

use crate::store::{
    bucketize_counts, minute_of, Counts, Filter, GroupBy, MinuteCounts, Store, StoreError,
};

#[derive(Debug, Clone, Serialize)]
pub struct Named {
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct VolumeView {
    pub from: i64,
    pub to: i64,
    pub total: Counts,
    pub series: Vec<MinuteCounts>,
    pub by_channel: Vec<Named>,
    pub by_topic: Vec<Named>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Shares {
    pub negative: f64,
    pub neutral: f64,
    pub positive: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub t: i64,
    pub net: f64,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SentimentView {
    pub from: i64,
    pub to: i64,
    pub total: i64,
    /// (positive - negative) / total x 100, in -100..100; 0 when there is nothing.
    pub net: f64,
    pub shares: Shares,
    pub bucket_minutes: i64,
    pub trend: Vec<TrendPoint>,
}

/// The window `[from, to)` of the last `minutes` whole minutes up to and including now's minute.
pub fn window(now_ms: i64, minutes: i64) -> (i64, i64) {
    let to = minute_of(now_ms) + 60_000;
    (to - minutes * 60_000, to)
}

pub fn net(c: &Counts) -> f64 {
    if c.total <= 0 {
        0.0
    } else {
        ((c.positive - c.negative) as f64 / c.total as f64 * 100.0).clamp(-100.0, 100.0)
    }
}

pub async fn volume(
    store: &Store,
    now_ms: i64,
    minutes: i64,
    f: &Filter,
) -> Result<VolumeView, StoreError> {
    let (from, to) = window(now_ms, minutes);
    let series = store.minutes(from, to, f).await?;
    let named = |rows: Vec<(String, Counts)>| {
        rows.into_iter()
            .map(|(name, counts)| Named { name, counts })
            .collect()
    };
    Ok(VolumeView {
        from,
        to,
        total: Counts::sum(&series),
        by_channel: named(store.totals_by(GroupBy::Channel, from, to, f).await?),
        by_topic: named(store.totals_by(GroupBy::Topic, from, to, f).await?),
        series,
    })
}

/// Trend buckets: about 30 points whatever the window, at least one minute each.
pub fn trend_bucket(minutes: i64) -> i64 {
    (minutes / 30).max(1)
}

pub async fn sentiment(
    store: &Store,
    now_ms: i64,
    minutes: i64,
    f: &Filter,
) -> Result<SentimentView, StoreError> {
    let (from, to) = window(now_ms, minutes);
    let series = store.minutes(from, to, f).await?;
    let total = Counts::sum(&series);
    let share = |n: i64| {
        if total.total > 0 {
            n as f64 / total.total as f64
        } else {
            0.0
        }
    };
    let bucket = trend_bucket(minutes);
    let trend = bucketize_counts(&series, bucket as usize)
        .iter()
        .map(|m| TrendPoint {
            t: m.t,
            net: net(&m.counts),
            total: m.counts.total,
        })
        .collect();
    Ok(SentimentView {
        from,
        to,
        total: total.total,
        net: net(&total),
        shares: Shares {
            negative: share(total.negative),
            neutral: share(total.neutral),
            positive: share(total.positive),
        },
        bucket_minutes: bucket,
        trend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_ends_after_the_current_minute() {
        let (from, to) = window(10 * 60_000 + 5_000, 3);
        assert_eq!(to, 11 * 60_000);
        assert_eq!(from, 8 * 60_000);
    }

    #[test]
    fn net_sentiment() {
        assert_eq!(
            net(&Counts {
                total: 10,
                negative: 5,
                neutral: 0,
                positive: 5
            }),
            0.0
        );
        assert_eq!(
            net(&Counts {
                total: 4,
                negative: 3,
                neutral: 0,
                positive: 1
            }),
            -50.0
        );
        assert_eq!(net(&Counts::default()), 0.0);
    }
}
