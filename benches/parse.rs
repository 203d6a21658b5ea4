//! Parsing speed of Sunward NDJSON (the format of the 1M-line ingest benchmark), and of the
//! X v2 and Jetstream line formats for comparison. Lines are generated here: varied text,
//! escapes, optional fields present and absent, like `sunward demo` output.
//!
//! `cargo bench --bench parse`; the figure to read is "elements/s" (= lines/s).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sunward::sources::{read_bytes, Format, Item};

const LINES: usize = 20_000;
const NOW: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn ndjson_lines(n: usize) -> Vec<u8> {
    let words = [
        "my",
        "order",
        "never",
        "arrived",
        "thanks",
        "for",
        "the",
        "quick",
        "help",
        "app",
        "keeps",
        "crashing",
        "after",
        "update",
        "love",
        "new",
        "feature",
        "\\\"quoted\\\"",
        "😡",
        "🙂",
        "refund",
        "please",
        "@support",
        "#fail",
    ];
    let mut out = Vec::with_capacity(n * 300);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..n {
        let len = 6 + (next() % 20) as usize;
        let text: Vec<&str> = (0..len)
            .map(|_| words[(next() % words.len() as u64) as usize])
            .collect();
        let ms = 1_700_000_000_000u64 + (i as u64) * 2_591;
        let secs = ms / 1000;
        let (days, rem) = (secs / 86_400, secs % 86_400);
        // Days since epoch to a date, just enough for 2023-2024.
        let (mut y, mut d) = (1970u64, days);
        loop {
            let yd = if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                366
            } else {
                365
            };
            if d < yd {
                break;
            }
            d -= yd;
            y += 1;
        }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let months = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let mut m = 0;
        while d >= months[m] {
            d -= months[m];
            m += 1;
        }
        let created = format!(
            "{y:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            m + 1,
            d + 1,
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            ms % 1000
        );
        let channel = ["x", "mastodon", "bluesky", "reddit"][i % 4];
        let line = if i % 3 == 0 {
            format!(
                r#"{{"source":"demo","id":"d{i}","created_at":"{created}","text":"{}","channel":"{channel}","author":{{"handle":"user{}","name":"User {}","followers":{}}},"lang":"en","inbound":true}}"#,
                text.join(" "),
                i % 5000,
                i % 5000,
                next() % 100_000
            )
        } else {
            format!(
                r#"{{"source":"demo","id":"d{i}","created_at":"{created}","text":"{}","channel":"{channel}","author":{{"handle":"user{}"}},"lang":null,"inbound":null,"topics":["billing"]}}"#,
                text.join(" "),
                i % 5000
            )
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

fn bench_format(c: &mut Criterion, name: &str, format: Format, input: Vec<u8>, lines: usize) {
    // Every line must parse, or the figure measures the reject path.
    let mut mentions = 0;
    read_bytes(&input, format, NOW, &mut |l| {
        mentions += usize::from(matches!(l.item, Item::Mention(_)))
    });
    assert_eq!(
        mentions, lines,
        "{name}: every generated line must be a mention"
    );

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(lines as u64));
    g.sample_size(20);
    g.bench_function(name, |b| {
        b.iter_batched(
            || (),
            |_| {
                let mut n = 0usize;
                read_bytes(black_box(&input), format, NOW, &mut |l| {
                    n += 1;
                    black_box(l);
                });
                n
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn parse(c: &mut Criterion) {
    bench_format(c, "ndjson", Format::Ndjson, ndjson_lines(LINES), LINES);

    let tweet = r#"{"data":{"id":"1377650093109743620","text":"@PoliceMutual Well done PD Max &amp; handler","created_at":"2021-04-01T15:52:32.000Z","author_id":"3026521093","lang":"en","conversation_id":"1377266697850257410","referenced_tweets":[{"type":"replied_to","id":"1377266697850257410"}]},"includes":{"users":[{"id":"3026521093","username":"sheelaghb18","name":"Sheelagh","verified":false,"public_metrics":{"followers_count":837}}]},"matching_rules":[{"id":"1","tag":"brand"}]}"#;
    let x: Vec<u8> = (0..LINES)
        .flat_map(|_| tweet.bytes().chain(std::iter::once(b'\n')))
        .collect();
    bench_format(c, "x-v2", Format::XV2, x, LINES);

    let post = r#"{"did":"did:plc:d3blkgynnwi3rp7vak25pfe3","time_us":1751639888160588,"kind":"commit","commit":{"rev":"3mptbypqszz2h","operation":"create","collection":"app.bsky.feed.post","rkey":"3mptbyo7dms2m","record":{"$type":"app.bsky.feed.post","createdAt":"2025-07-04T14:38:06.055Z","langs":["en"],"text":"Read the part about throwing off the old guards if they do not work."},"cid":"bafyreihaenhj2c5yxlwbj6nd4ewtxr7oylvuymqzqnrwqo6e3qfz6euiyq"}}"#;
    let js: Vec<u8> = (0..LINES)
        .flat_map(|_| post.bytes().chain(std::iter::once(b'\n')))
        .collect();
    bench_format(c, "jetstream", Format::Jetstream, js, LINES);
}

criterion_group!(benches, parse);
criterion_main!(benches);
