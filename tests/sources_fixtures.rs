//! The parsers against real payloads recorded from the services (see
//! `../shared/data/README.md`). Counts were taken independently of this code (Python over
//! the same files) and pinned here.
//!
//! The data lives beside the checkout, not in it (several files are licensed for
//! non-commercial use only). Without it each test prints a notice and passes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sunward::sources::{read_path, Format, Item, Located, Reject, SourceError};

/// 2026-12-01T00:00:00Z: after every fixture (the newest, Jetstream, is from July 2026),
/// fixed so the future-date check does not depend on the day the tests run.
const NOW: i64 = 1_796_083_200_000;

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data"));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        println!("skipped: ../shared/data not found (CI has it beside the checkout)");
        None
    }
}

#[derive(Debug, Default)]
struct Tally {
    format: Option<Format>,
    mentions: usize,
    deletes: usize,
    skipped: BTreeMap<String, usize>,
    rejected: BTreeMap<&'static str, usize>,
    items: Vec<Located>,
}

impl Tally {
    fn mentions(&self) -> impl Iterator<Item = (u64, &sunward::model::Mention)> {
        self.items.iter().filter_map(|l| match &l.item {
            Item::Mention(m) => Some((l.line, m)),
            _ => None,
        })
    }
    fn skips(&self) -> usize {
        self.skipped.values().sum()
    }
    fn rejects(&self) -> usize {
        self.rejected.values().sum()
    }
}

fn read_at(dir: &Path, rel: &str, format: Option<Format>, now: i64) -> Result<Tally, SourceError> {
    let mut t = Tally::default();
    let f = read_path(&dir.join(rel), format, now, &mut |l| {
        match &l.item {
            Item::Mention(_) => t.mentions += 1,
            Item::Delete { .. } => t.deletes += 1,
            Item::Skipped { kind } => *t.skipped.entry(kind.clone()).or_default() += 1,
            Item::Rejected { reason, .. } => *t.rejected.entry(reason.as_str()).or_default() += 1,
        }
        t.items.push(l);
    })?;
    t.format = Some(f);
    Ok(t)
}

/// Reads with format detection; the file must be readable.
fn read(dir: &Path, rel: &str) -> Tally {
    read_at(dir, rel, None, NOW).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn assert_plain_text(rel: &str, t: &Tally) {
    for (line, m) in t.mentions() {
        for markup in [
            "<p>", "</", "<br", "<a ", "<span", "<div", "&amp;", "&lt;", "&#39;", "&quot;",
        ] {
            assert!(
                !m.text.contains(markup),
                "{rel} line {line}: {markup} left in {:?}",
                m.text
            );
        }
    }
}

#[test]
fn x_v2_stream_search_and_lookup_pages() {
    let Some(dir) = data_dir() else { return };
    let base = "fixtures/twitter_v2_twarc-csv";

    let t = read(&dir, &format!("{base}/streaming_output_with_error.jsonl"));
    assert_eq!(t.format, Some(Format::XV2));
    assert_eq!((t.mentions, t.deletes, t.skips()), (7, 0, 0));
    assert_eq!(t.rejected, BTreeMap::from([("truncated_line", 1)]));
    let last = t.items.last().unwrap();
    assert_eq!(last.line, 8, "the cut-off event is the 8th line");
    let (line, first) = t.mentions().next().unwrap();
    assert_eq!(line, 1);
    assert_eq!(first.source_id, "1377650090978992134");
    assert_eq!(
        first.text,
        "Fury https://t.co/YbMgHU5xRX https://t.co/tXgDG9jrKX"
    );
    assert_eq!(first.author.handle.as_deref(), Some("blackheart_265"));
    assert_eq!(first.author.name.as_deref(), Some("Endangered Species"));
    assert_eq!(first.author.followers, Some(881));
    assert_eq!(
        first.url.as_deref(),
        Some("https://x.com/blackheart_265/status/1377650090978992134")
    );
    assert!(first.topics.is_empty(), "the stream's only rule has no tag");
    assert_eq!(
        t.mentions()
            .filter(|(_, m)| m.in_reply_to.is_some())
            .count(),
        3
    );
    assert_eq!(t.mentions().filter(|(_, m)| m.author.verified).count(), 1);

    let t = read(&dir, &format!("{base}/brexit.jsonl"));
    assert_eq!(t.format, Some(Format::XV2));
    assert_eq!((t.mentions, t.skips(), t.rejects()), (100, 0, 0));
    assert!(
        t.mentions().all(|(line, _)| line == 1),
        "one search page, one line"
    );
    assert_eq!(
        t.mentions()
            .filter(|(_, m)| m.in_reply_to.is_some())
            .count(),
        10
    );
    assert_eq!(
        t.mentions().filter(|(_, m)| m.lang.is_none()).count(),
        3,
        "`und` is no language"
    );
    assert!(t
        .mentions()
        .all(|(_, m)| m.author.handle.is_some() && m.author.followers.is_some()));
    assert_plain_text("brexit.jsonl", &t);

    for (file, mentions) in [("edited.jsonl", 1), ("two_tweets.jsonl", 1)] {
        let t = read(&dir, &format!("{base}/{file}"));
        assert_eq!(t.format, Some(Format::XV2), "{file}");
        assert_eq!(
            (t.mentions, t.skips(), t.rejects()),
            (mentions, 0, 0),
            "{file}: {:?}",
            t.rejected
        );
    }

    let t = read(&dir, &format!("{base}/users.jsonl"));
    assert_eq!(t.format, Some(Format::XV2));
    assert_eq!(t.mentions, 0);
    assert_eq!(t.skipped, BTreeMap::from([("x_user".to_string(), 96)]));
    assert_eq!(t.rejects(), 0);
}

#[test]
fn twcs_customer_support_csvs() {
    let Some(dir) = data_dir() else { return };
    // (file, rows, inbound, with a reply link, distinct authors, texts with a bare CR)
    let expected = [
        ("twcs/sample_kaggle_naman-tiwari.csv", 93, 49, 68, 42, 0),
        (
            "twcs/spotifycares_support_requests.csv",
            15_096,
            15_096,
            15_096,
            8_723,
            8,
        ),
        (
            "twcs/twcs_head_monalisapatra26.csv",
            5_000,
            2_778,
            3_694,
            1_519,
            1,
        ),
    ];
    for (rel, rows, inbound, replies, authors, with_cr) in expected {
        let t = read(&dir, rel);
        assert_eq!(t.format, Some(Format::Twcs), "{rel}");
        // The rows that other readers report as malformed are tweets with a line break
        // (a bare CR) that pandas left unquoted; they are read whole, not rejected.
        assert_eq!(
            (t.mentions, t.skips(), t.rejects()),
            (rows, 0, 0),
            "{rel}: {:?}",
            t.rejected
        );
        assert_eq!(
            t.mentions()
                .filter(|(_, m)| m.inbound == Some(true))
                .count(),
            inbound,
            "{rel}"
        );
        assert_eq!(
            t.mentions()
                .filter(|(_, m)| m.in_reply_to.is_some())
                .count(),
            replies,
            "{rel}"
        );
        let distinct: std::collections::HashSet<_> =
            t.mentions().map(|(_, m)| m.author.handle.clone()).collect();
        assert_eq!(distinct.len(), authors, "{rel}");
        assert_eq!(
            t.mentions().filter(|(_, m)| m.text.contains('\r')).count(),
            with_cr,
            "{rel}"
        );
        assert!(t
            .mentions()
            .all(|(_, m)| m.source == "twcs" && m.channel == "x"));
        assert!(
            t.mentions().all(|(_, m)| m
                .in_reply_to
                .as_deref()
                .map_or(true, |r| r.bytes().all(|b| b.is_ascii_digit()))),
            "{rel}: reply ids are integers, not pandas floats"
        );
        assert_eq!(
            t.mentions().next().unwrap().0,
            2,
            "{rel}: first row is line 2"
        );
    }

    let t = read(&dir, "twcs/twcs_head_monalisapatra26.csv");
    let (line, m) = t.mentions().find(|(_, m)| m.source_id == "3399").unwrap();
    assert_eq!(line, 2589);
    assert_eq!(
        m.text,
        "@AskPayPal \r\rI just love the start of email 😁 https://t.co/8u1Pf5rJoN"
    );
    assert_eq!(m.author.handle.as_deref(), Some("116510"));
    let (_, first) = t.mentions().next().unwrap();
    assert_eq!(first.source_id, "1");
    assert_eq!(first.author.handle.as_deref(), Some("sprintcare"));
    assert_eq!(first.inbound, Some(false));
    assert_eq!(first.in_reply_to.as_deref(), Some("3"));
    assert_eq!(first.created_at, 1_509_487_847_000);
}

#[test]
fn mastodon_statuses_and_streaming_events() {
    let Some(dir) = data_dir() else { return };
    let rel = "fixtures/mastodon_rtoot/get_timeline_public_anonymous.statuses.json";
    let t = read(&dir, rel);
    assert_eq!(t.format, Some(Format::Mastodon));
    assert_eq!(
        (t.mentions, t.deletes, t.skips(), t.rejects()),
        (20, 0, 0, 0),
        "{:?}",
        t.rejected
    );
    assert_eq!(
        t.mentions()
            .filter(|(_, m)| m.in_reply_to.is_some())
            .count(),
        4
    );
    assert_eq!(t.mentions().filter(|(_, m)| m.lang.is_some()).count(), 20);
    assert!(t
        .mentions()
        .all(|(_, m)| m.author.handle.is_some() && m.author.followers.is_some()));
    assert_plain_text(rel, &t);
    let (line, first) = t.mentions().next().unwrap();
    assert_eq!(
        line, 2,
        "the first status of the pretty-printed array starts on line 2"
    );
    assert_eq!(first.source_id, "114870361973436726");
    assert_eq!(
        first.author.handle.as_deref(),
        Some("Michael@weatherby2378.social")
    );
    assert_eq!(first.author.followers, Some(265));
    assert!(
        first.text.starts_with("Natüürlich.\n\"The UK and Germany"),
        "{:?}",
        first.text
    );
    assert!(
        first
            .text
            .ends_with("https://www.bbc.com/news/articles/cq6m10g7e35o"),
        "{:?}",
        first.text
    );
    assert!(
        t.mentions().all(|(_, m)| m.topics.is_empty()),
        "hashtags are not topics"
    );

    for n in 1..=6 {
        let rel = format!("fixtures/mastodon_flodgatt/msg.event_txt_00{n}.txt");
        let t = read(&dir, &rel);
        assert_eq!(t.format, Some(Format::Mastodon), "{rel}");
        if n == 4 {
            assert_eq!((t.mentions, t.deletes), (0, 1));
            assert_eq!(
                t.items[0].item,
                Item::Delete {
                    source: "mastodon".into(),
                    source_id: "104061222412800865".into()
                }
            );
        } else {
            assert_eq!(
                (t.mentions, t.deletes, t.skips(), t.rejects()),
                (1, 0, 0, 0),
                "{rel}: {:?}",
                t.items
            );
            assert_plain_text(&rel, &t);
        }
    }
    let (_, m) = read(&dir, "fixtures/mastodon_flodgatt/msg.event_txt_006.txt")
        .mentions()
        .next()
        .map(|(l, m)| (l, m.clone()))
        .unwrap();
    assert!(
        m.text.starts_with("🎶 #NowPlaying\nWar\nby GoSoundtrack"),
        "{:?}",
        m.text
    );

    // The raw Redis frames around those events are not a feed format.
    let err = read_at(
        &dir,
        "fixtures/mastodon_flodgatt/redis_input_001.resp",
        None,
        NOW,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("could not detect the format"),
        "{err}"
    );
}

#[test]
fn bluesky_jetstream_events() {
    let Some(dir) = data_dir() else { return };
    let rel = "fixtures/bluesky_jetstream/corpus_expected_v1.jsonl";
    let t = read(&dir, rel);
    assert_eq!(t.format, Some(Format::Jetstream));
    assert_eq!(
        (t.mentions, t.deletes, t.rejects()),
        (17, 1, 0),
        "{:?}",
        t.rejected
    );
    let skipped: BTreeMap<String, usize> = [
        ("account", 1),
        ("app.bsky.actor.status", 1),
        ("app.bsky.feed.like", 105),
        ("app.bsky.feed.repost", 15),
        ("app.bsky.graph.block", 1),
        ("app.bsky.graph.follow", 9),
        ("fm.teal.alpha.actor.status", 1),
        ("identity", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(t.skipped, skipped);
    assert_eq!(t.items.len(), 152, "one item per event");
    assert_eq!(
        t.mentions()
            .filter(|(_, m)| m.in_reply_to.is_some())
            .count(),
        8
    );
    assert_eq!(t.mentions().filter(|(_, m)| m.lang.is_some()).count(), 16);
    let (line, m) = t
        .mentions()
        .find(|(_, m)| m.lang.as_deref() == Some("ko"))
        .unwrap();
    assert_eq!(line, 26);
    assert_eq!(
        m.source_id,
        "at://did:plc:o2rolxey6s5k7d4lxcz3inl4/app.bsky.feed.post/3mptbyp7lu223"
    );
    assert_eq!(m.text, "이쁘시네용~~~");
    assert_eq!(
        m.in_reply_to.as_deref(),
        Some("at://did:plc:i5y2f3gtpjxs3qg6fwgb6jb4/app.bsky.feed.post/3mpt7u2vlgs2c")
    );
    assert_eq!(m.created_at, 1_783_175_887_112);
    let delete = t
        .items
        .iter()
        .find(|l| matches!(l.item, Item::Delete { .. }))
        .unwrap();
    assert_eq!(
        delete.item,
        Item::Delete {
            source: "bluesky".into(),
            source_id: "at://did:plc:4smmjsqf6l5jkzczvw6vsrqc/app.bsky.feed.post/3mpt73z3ejc2p"
                .into()
        }
    );

    // Read on 2026-01-01, the July 2026 posts are in the future: rejected, not stored.
    let early = read_at(&dir, rel, None, 1_767_225_600_000).unwrap();
    assert_eq!(early.mentions, 0);
    assert_eq!(
        early.rejected,
        BTreeMap::from([(Reject::FutureTimestamp.as_str(), 17)])
    );

    for other in [
        "fixtures/bluesky_jetstream/corpus_manifest.json",
        "fixtures/bluesky_jetstream/corpus_README.md",
    ] {
        assert!(
            matches!(
                read_at(&dir, other, None, NOW),
                Err(SourceError::Undetected { .. })
            ),
            "{other}"
        );
    }
}

#[test]
fn reddit_listings_not_cassettes() {
    let Some(dir) = data_dir() else { return };
    let base = "fixtures/reddit_praw";
    // (listing, posts or comments, replies to comments)
    for (name, kind, comment_parents) in [
        ("TestFront.test_new", "t3", 0),
        ("TestSubredditListings.test_new", "t3", 0),
        ("TestSubredditListings.test_comments", "t1", 55),
        (
            "TestSubredditStreams.test_comments__with_continue_after_id",
            "t1",
            86,
        ),
    ] {
        let rel = format!("{base}/{name}.listing1.json");
        let t = read(&dir, &rel);
        assert_eq!(t.format, Some(Format::Reddit), "{rel}");
        assert_eq!(
            (t.mentions, t.skips(), t.rejects()),
            (100, 0, 0),
            "{rel}: {:?}",
            t.rejected
        );
        assert!(
            t.mentions()
                .all(|(_, m)| m.source_id.starts_with(kind) && m.url.is_some()),
            "{rel}"
        );
        let replies = t
            .mentions()
            .filter(|(_, m)| m.in_reply_to.is_some())
            .count();
        assert_eq!(replies, if kind == "t1" { 100 } else { 0 }, "{rel}");
        let to_comments = t
            .mentions()
            .filter(|(_, m)| {
                m.in_reply_to
                    .as_deref()
                    .is_some_and(|p| p.starts_with("t1_"))
            })
            .count();
        assert_eq!(to_comments, comment_parents, "{rel}");

        let cassette = format!("{base}/{name}.cassette.json");
        let err = read_at(&dir, &cassette, None, NOW).unwrap_err();
        assert!(
            matches!(err, SourceError::Undetected { .. }),
            "{cassette}: {err}"
        );
        let forced = read_at(&dir, &cassette, Some(Format::Reddit), NOW).unwrap();
        assert_eq!(
            forced.rejected,
            BTreeMap::from([("unsupported_record", 1)]),
            "{cassette}"
        );
        assert_eq!(forced.mentions, 0);
    }
    let t = read(&dir, &format!("{base}/TestFront.test_new.listing1.json"));
    let (_, first) = t.mentions().next().unwrap();
    assert_eq!(first.source_id, "t3_48f0th");
    assert_eq!(first.author.handle.as_deref(), Some("Kevm4str"));
    assert_eq!(first.created_at, 1_456_814_968_000);
    assert!(
        first
            .text
            .starts_with("Pokémon could never exist in America"),
        "{:?}",
        first.text
    );
    assert!(first
        .url
        .as_deref()
        .unwrap()
        .starts_with("https://www.reddit.com/r/Showerthoughts/comments/48f0th/"));
}

#[test]
fn rss_and_atom_feeds() {
    let Some(dir) = data_dir() else { return };
    for (rel, entries) in [
        ("fixtures/rss_atom_feed-rs/atom_example_reddit.xml", 1),
        ("fixtures/rss_atom_feed-rs/atom_mediarss_reddit_1.xml", 25),
        ("fixtures/rss_atom_feed-rs/rss_2.0_cloudflare.xml", 1),
        ("fixtures/rss_atom_feed-rs/rss_2.0_reddit.xml", 1),
        ("fixtures/rss_atom_feed-rs/rss_2.0_wirecutter.xml", 1),
        ("fixtures/discourse_rss/posts.rss", 50),
    ] {
        let t = read(&dir, rel);
        assert_eq!(t.format, Some(Format::Rss), "{rel}");
        assert_eq!(
            (t.mentions, t.skips(), t.rejects()),
            (entries, 0, 0),
            "{rel}: {:?}",
            t.items
        );
        let lines: Vec<u64> = t.items.iter().map(|l| l.line).collect();
        assert_eq!(
            lines,
            (1..=entries as u64).collect::<Vec<_>>(),
            "{rel}: entries are numbered"
        );
        assert!(
            t.mentions()
                .all(|(_, m)| m.url.is_some() && !m.text.is_empty()),
            "{rel}"
        );
        assert_plain_text(rel, &t);
    }
    let t = read(&dir, "fixtures/rss_atom_feed-rs/rss_2.0_wirecutter.xml");
    let (_, m) = t.mentions().next().unwrap();
    assert_eq!(m.source_id, "https://www.nytimes.com/wirecutter/?p=270973");
    assert_eq!(m.author.name.as_deref(), Some("James Austin"));
    assert_eq!(m.lang.as_deref(), Some("en-us"));
    assert!(
        m.text
            .starts_with("How to Teach Someone a Board Game (and Even Have Fun Doing It)\n\n"),
        "{:?}",
        m.text
    );

    let t = read(&dir, "fixtures/discourse_rss/posts.rss");
    let (_, m) = t.mentions().next().unwrap();
    assert_eq!(m.source_id, "discuss.criticalfallibilism.com-post-20218");
    assert_eq!(m.author.name.as_deref(), Some("@Elliot"));

    // Discourse's JSON API is not one of our formats.
    let err = read_at(&dir, "fixtures/discourse_rss/posts.json", None, NOW).unwrap_err();
    assert!(matches!(err, SourceError::Undetected { .. }), "{err}");
}
