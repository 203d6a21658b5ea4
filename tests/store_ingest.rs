//! The ingest pipeline against a real SQLite file: idempotency, rejects, deletes, rollups.

mod common;

use std::sync::Arc;

use sunward::clock::Clock;
use sunward::enrich::Enricher;
use sunward::ingest::Ingestor;
use sunward::model::{Author, Mention};
use sunward::sources::Format;
use sunward::store::{Filter, GroupBy, Store};

const NOW: i64 = 1_790_000_000_000; // 2026-09-21

async fn setup() -> (tempfile::TempDir, Ingestor) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&common::test_db(dir.path(), "t.db").await)
        .await
        .expect("open");
    let config = sunward::config::Config::load(Some(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/config.toml"
    ))))
    .expect("config");
    let ingestor = Ingestor::new(
        store,
        Arc::new(Enricher::new(config.query_set())),
        None,
        Clock::manual(NOW),
    );
    (dir, ingestor)
}

fn mention(id: &str, at: i64, text: &str, channel: &str) -> Mention {
    Mention {
        source: "t".into(),
        source_id: id.into(),
        channel: channel.into(),
        created_at: at,
        text: text.into(),
        author: Author {
            handle: Some("a".into()),
            followers: Some(1000),
            ..Author::default()
        },
        ..Mention::default()
    }
}

#[tokio::test]
async fn same_input_twice_stores_nothing_twice() {
    let (_d, ing) = setup().await;
    let ms: Vec<Mention> = (0..12_000)
        .map(|i| mention(&format!("m{i}"), NOW - i * 1000, "my bag is lost", "x"))
        .collect();
    let first = ing
        .ingest_mentions("test", ms.clone())
        .await
        .expect("first");
    assert_eq!(
        (first.read, first.stored, first.duplicates),
        (12_000, 12_000, 0)
    );
    let again = ing.ingest_mentions("test", ms).await.expect("again");
    assert_eq!((again.stored, again.duplicates), (0, 12_000));
    assert_eq!(ing.store.mention_count().await.expect("count"), 12_000);
    // Rollups count each mention once, on its event-time minute.
    let minutes = ing
        .store
        .minutes(NOW - 12_000_000, NOW + 60_000, &Filter::default())
        .await
        .expect("minutes");
    assert_eq!(minutes.iter().map(|m| m.counts.total).sum::<i64>(), 12_000);
    let baggage = Filter {
        topic: Some("baggage".into()),
        channel: None,
    };
    let by_topic = ing
        .store
        .minutes(NOW - 12_000_000, NOW + 60_000, &baggage)
        .await
        .expect("topic");
    assert_eq!(
        by_topic.iter().map(|m| m.counts.total).sum::<i64>(),
        12_000,
        "the config's baggage query matches"
    );
}

#[tokio::test]
async fn duplicates_inside_one_batch_count_once() {
    let (_d, ing) = setup().await;
    let m = mention("same", NOW, "hello", "x");
    let r = ing
        .ingest_mentions("test", vec![m.clone(), m.clone(), m])
        .await
        .expect("ingest");
    assert_eq!((r.stored, r.duplicates), (1, 2));
}

#[tokio::test]
async fn rollups_split_by_channel_and_label() {
    let (_d, ing) = setup().await;
    let ms = vec![
        mention(
            "1",
            NOW,
            "This is the worst airline, I hate it, terrible service",
            "x",
        ),
        mention(
            "2",
            NOW,
            "Thank you so much, wonderful crew, love it!",
            "mastodon",
        ),
        mention("3", NOW, "Thank you so much, wonderful crew, love it!", "x"),
    ];
    ing.ingest_mentions("test", ms).await.expect("ingest");
    let rows = ing
        .store
        .totals_by(
            GroupBy::Channel,
            NOW - 60_000,
            NOW + 60_000,
            &Filter::default(),
        )
        .await
        .expect("by channel");
    let x = rows.iter().find(|r| r.0 == "x").expect("x row").1;
    assert_eq!((x.total, x.negative, x.positive), (2, 1, 1));
    let m = rows
        .iter()
        .find(|r| r.0 == "mastodon")
        .expect("mastodon row")
        .1;
    assert_eq!((m.total, m.positive), (1, 1));
}

#[tokio::test]
async fn ndjson_bad_lines_are_counted_kept_and_the_rest_lands() {
    let (_d, ing) = setup().await;
    let good = common::ndjson_line("t", "ok1", NOW - 5_000, "fine", "x");
    let good2 = common::ndjson_line("t", "ok2", NOW - 4_000, "fine too", "x");
    let body = format!("{good}\n{{not json\n{{\"source\":\"t\",\"id\":\"x\"}}\n{good2}\n{good}\n");
    let r = ing
        .ingest_bytes("api", body.into_bytes(), Format::Ndjson)
        .await
        .expect("ingest");
    assert_eq!(r.read, 5);
    assert_eq!((r.stored, r.duplicates, r.rejected), (2, 1, 2));
    assert_eq!(r.reasons.values().sum::<u64>(), 2);
    let (total, rows) = ing.store.rejects(10).await.expect("rejects");
    assert_eq!(total, 2);
    let lines: Vec<i64> = rows.iter().map(|r| r.line).collect();
    assert!(
        lines.contains(&2) && lines.contains(&3),
        "line numbers kept: {lines:?}"
    );
    assert!(
        rows.iter().all(|r| !r.detail.is_empty()),
        "every reject says why"
    );
}

#[tokio::test]
async fn deletes_remove_the_mention_and_its_counts() {
    let (_d, ing) = setup().await;
    ing.ingest_mentions(
        "test",
        vec![
            mention("gone", NOW, "my luggage", "x"),
            mention("kept", NOW, "hi", "x"),
        ],
    )
    .await
    .expect("ingest");
    let mut b = sunward::store::Batch {
        origin: "test".into(),
        ..Default::default()
    };
    b.deletes.push(("t".into(), "gone".into()));
    b.deletes.push(("t".into(), "never-seen".into()));
    let out = ing.store.write_batch(&b, NOW).await.expect("delete");
    assert_eq!(out.deleted, 1);
    assert_eq!(ing.store.mention_count().await.expect("count"), 1);
    let minutes = ing
        .store
        .minutes(NOW - 60_000, NOW + 60_000, &Filter::default())
        .await
        .expect("minutes");
    assert_eq!(minutes.iter().map(|m| m.counts.total).sum::<i64>(), 1);
    let topic = Filter {
        topic: Some("baggage".into()),
        channel: None,
    };
    let minutes = ing
        .store
        .minutes(NOW - 60_000, NOW + 60_000, &topic)
        .await
        .expect("minutes");
    assert_eq!(minutes.iter().map(|m| m.counts.total).sum::<i64>(), 0);
}

#[tokio::test]
async fn cursor_is_written_with_its_batch() {
    let (_d, ing) = setup().await;
    let mut b = sunward::store::Batch {
        origin: "test".into(),
        ..Default::default()
    };
    b.mentions.push(sunward::store::NewMention {
        mention: mention("c1", NOW, "x", "x"),
        enrichment: ing.enricher.enrich(&mention("c1", NOW, "x", "x")),
    });
    b.cursor = Some(("feed".into(), "etag-42".into()));
    ing.store.write_batch(&b, NOW).await.expect("write");
    assert_eq!(
        ing.store.cursor("feed").await.expect("cursor").as_deref(),
        Some("etag-42")
    );
}
