//! Row mappers shared by several areas, compiled for both databases (src/store/dual.rs).

use sqlx::Row;

use super::{Counts, StoreError};
use crate::model::{Author, Label, Mention, StoredMention};

/// Label codes as stored: 0 negative, 1 neutral, 2 positive.
pub(crate) fn label_code(l: Label) -> i64 {
    match l {
        Label::Negative => 0,
        Label::Neutral => 1,
        Label::Positive => 2,
    }
}

/// Counts of a rollup row changed by `by` mentions of `label`.
pub(crate) fn bump(c: &mut Counts, label: Label, by: i64) {
    c.total += by;
    match label {
        Label::Negative => c.negative += by,
        Label::Neutral => c.neutral += by,
        Label::Positive => c.positive += by,
    }
}

/// A rollup row: (minute, channel, topic); topic '' is the channel's all-topics row.
pub(crate) type RollupKey = (i64, String, String);

pub(crate) fn label_from(code: i64) -> Label {
    match code {
        0 => Label::Negative,
        2 => Label::Positive,
        _ => Label::Neutral,
    }
}

dual! {
    pub(crate) fn stored_mention(r: &DbRow) -> Result<StoredMention, StoreError> {
        let topics: String = r.try_get(17)?;
        let followers: Option<i64> = r.try_get(8)?;
        Ok(StoredMention {
            id: r.try_get(0)?,
            mention: Mention {
                source: r.try_get(1)?,
                source_id: r.try_get(2)?,
                channel: r.try_get(3)?,
                created_at: r.try_get(4)?,
                text: r.try_get(5)?,
                author: Author {
                    handle: r.try_get(6)?,
                    name: r.try_get(7)?,
                    followers: followers.map(|f| f.max(0) as u64),
                    verified: r.try_get(9)?,
                },
                url: r.try_get(10)?,
                lang: r.try_get(11)?,
                in_reply_to: r.try_get(12)?,
                inbound: r.try_get(13)?,
                topics: serde_json::from_str(&topics).unwrap_or_default(),
            },
            sentiment: r.try_get::<f64, _>(14)? as f32,
            label: super::label_from(r.try_get(15)?),
            influence: r.try_get::<i64, _>(16)?.clamp(0, 100) as u8,
        })
    }
}
