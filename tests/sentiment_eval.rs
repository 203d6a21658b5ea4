//! Accuracy of the sentiment engine on labeled public tweet sets in `../shared/data`.
//!
//! Prints accuracy, macro-F1 and per-class recall for the shipped analyzer (VADER + care
//! layer) and for the VADER-only baseline, and fails when the shipped analyzer falls below
//! the floors (set slightly under the measured figures, see `docs/sentiment.md`).
//! Skipped with a message when the data is absent.
//!
//! `SUNWARD_EVAL_DUMP=/some/dir` writes the misclassified texts there (for development).
use std::path::{Path, PathBuf};
use sunward::enrich::sentiment::Analyzer;
use sunward::model::Label;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

fn idx(l: Label) -> usize {
    match l {
        Label::Negative => 0,
        Label::Neutral => 1,
        Label::Positive => 2,
    }
}

type Rows = Vec<(String, Label)>;

struct Metrics {
    n: usize,
    accuracy: f64,
    macro_f1: f64,
    recall: [f64; 3],
    confusion: [[usize; 3]; 3],
}

fn evaluate(analyzer: &Analyzer, rows: &[(String, Label)], dump: Option<(&str, &str)>) -> Metrics {
    let mut confusion = [[0usize; 3]; 3];
    let mut wrong = String::new();
    for (text, gold) in rows {
        let got = analyzer.analyze(text);
        confusion[idx(*gold)][idx(got.label)] += 1;
        if got.label != *gold && dump.is_some() {
            wrong.push_str(&format!(
                "{}\t{}\t{:+.3}\t{}\n",
                gold.as_str(),
                got.label.as_str(),
                got.score,
                text.replace(['\n', '\t'], " ")
            ));
        }
    }
    if let (Some((dir, name)), Ok(_)) = (dump, std::fs::create_dir_all(dump.map_or(".", |d| d.0))) {
        let _ = std::fs::write(Path::new(dir).join(format!("{name}.tsv")), wrong);
    }
    let n: usize = confusion.iter().flatten().sum();
    let correct: usize = (0..3).map(|i| confusion[i][i]).sum();
    let mut recall = [0.0; 3];
    let mut f1_sum = 0.0;
    for c in 0..3 {
        let tp = confusion[c][c] as f64;
        let gold: usize = confusion[c].iter().sum();
        let pred: usize = (0..3).map(|g| confusion[g][c]).sum();
        let r = if gold > 0 { tp / gold as f64 } else { 0.0 };
        let p = if pred > 0 { tp / pred as f64 } else { 0.0 };
        recall[c] = r;
        f1_sum += if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
    }
    Metrics {
        n,
        accuracy: correct as f64 / n.max(1) as f64,
        macro_f1: f1_sum / 3.0,
        recall,
        confusion,
    }
}

fn print(set: &str, which: &str, m: &Metrics) {
    println!(
        "{set:<28} {which:<7} n={:<6} acc={:.3} macroF1={:.3} recall neg={:.3} neu={:.3} pos={:.3}  confusion(gold x pred, neg/neu/pos)={:?}",
        m.n, m.accuracy, m.macro_f1, m.recall[0], m.recall[1], m.recall[2], m.confusion
    );
}

fn tweeteval(split: &str) -> Option<Vec<(String, Label)>> {
    let dir = PathBuf::from(DATA).join("tweeteval_sentiment");
    let text = std::fs::read_to_string(dir.join(format!("{split}_text.txt"))).ok()?;
    let labels = std::fs::read_to_string(dir.join(format!("{split}_labels.txt"))).ok()?;
    let rows: Vec<_> = text
        .lines()
        .zip(labels.lines())
        .filter_map(|(t, l)| {
            let label = match l.trim() {
                "0" => Label::Negative,
                "1" => Label::Neutral,
                "2" => Label::Positive,
                _ => return None,
            };
            Some((t.to_string(), label))
        })
        .collect();
    assert_eq!(
        rows.len(),
        text.lines().count(),
        "tweeteval {split}: unreadable labels"
    );
    Some(rows)
}

fn sentiment140() -> Option<Vec<(String, Label)>> {
    let bytes =
        std::fs::read(PathBuf::from(DATA).join("sentiment140/testdata.manual.2009.06.14.csv"))
            .ok()?;
    // Latin-1: every byte is the code point of the same value.
    let text: String = bytes.iter().map(|&b| b as char).collect();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut bad = 0;
    for rec in rdr.records() {
        let Ok(rec) = rec else {
            bad += 1;
            continue;
        };
        let label = match rec.get(0) {
            Some("0") => Label::Negative,
            Some("2") => Label::Neutral,
            Some("4") => Label::Positive,
            _ => {
                bad += 1;
                continue;
            }
        };
        match rec.get(5) {
            Some(t) => rows.push((t.to_string(), label)),
            None => bad += 1,
        }
    }
    println!("sentiment140: {} rows, {bad} rejected", rows.len());
    Some(rows)
}

fn tweet_sentiment_extraction() -> Option<Vec<(String, Label)>> {
    let path = PathBuf::from(DATA).join("tweet_sentiment_extraction/Tweets.csv");
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .ok()?;
    let mut rows = Vec::new();
    let mut bad = 0;
    for rec in rdr.records() {
        let Ok(rec) = rec else {
            bad += 1;
            continue;
        };
        match (rec.get(1), rec.get(3).and_then(Label::parse)) {
            (Some(t), Some(l)) if !t.trim().is_empty() => rows.push((t.to_string(), l)),
            _ => bad += 1,
        }
    }
    println!(
        "tweet_sentiment_extraction: {} rows, {bad} rejected",
        rows.len()
    );
    Some(rows)
}

#[test]
fn sentiment_accuracy_on_labeled_tweets() {
    if !Path::new(DATA).is_dir() {
        println!(
            "SKIP sentiment_eval: {DATA} not found (labeled data sets live beside the checkout)"
        );
        return;
    }
    let ours = Analyzer::new();
    let vader = Analyzer::base_only();
    let dump_dir = std::env::var("SUNWARD_EVAL_DUMP").ok();
    // (set, rows, floor accuracy, floor macro-F1, floor negative recall) for the shipped analyzer.
    let sets: [(&str, Option<Rows>, f64, f64, f64); 4] = [
        // measured 0.540 / 0.539 / 0.643
        ("tweeteval test", tweeteval("test"), 0.525, 0.525, 0.58),
        // measured 0.562 / 0.547 / 0.731 (the split used to decide rule changes)
        ("tweeteval val (dev)", tweeteval("val"), 0.545, 0.53, 0.70),
        // measured 0.733 / 0.729 / 0.718 (498 rows: one row is 0.002)
        (
            "sentiment140 manual test",
            sentiment140(),
            0.715,
            0.71,
            0.65,
        ),
        // measured 0.651 / 0.648 / 0.704
        (
            "tweet_sentiment_extraction",
            tweet_sentiment_extraction(),
            0.635,
            0.635,
            0.68,
        ),
    ];
    let mut failures = Vec::new();
    for (name, rows, min_acc, min_f1, min_neg) in sets {
        let Some(rows) = rows else {
            println!("SKIP {name}: file missing under {DATA}");
            continue;
        };
        let dump = dump_dir
            .as_deref()
            .map(|d| (d, name.split(' ').next().unwrap_or(name)));
        let m = evaluate(&ours, &rows, dump);
        let b = evaluate(&vader, &rows, None);
        print(name, "sunward", &m);
        print(name, "vader", &b);
        if m.accuracy < min_acc || m.macro_f1 < min_f1 || m.recall[0] < min_neg {
            failures.push(format!(
                "{name}: acc {:.3} (floor {min_acc}), macro-F1 {:.3} (floor {min_f1}), negative recall {:.3} (floor {min_neg})",
                m.accuracy, m.macro_f1, m.recall[0]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "sentiment regressed:\n{}",
        failures.join("\n")
    );
}

/// The shipped engine and plain VADER on `rows`, both printed under `name`.
fn ours_and_vader(
    name: &str,
    rows: &[(String, Label)],
) -> (
    sunward::enrich::eval::Metrics,
    sunward::enrich::eval::Metrics,
) {
    let ours = sunward::enrich::eval::evaluate(&Analyzer::new(), rows);
    let vader = sunward::enrich::eval::evaluate(&Analyzer::base_only(), rows);
    println!(
        "{name} sunward {}\n{name} vader   {}",
        ours.line(),
        vader.line()
    );
    (ours, vader)
}

/// The care targets (macro-F1 >= 0.60, negative recall >= 0.75 with no learning) on
/// the closest shared stand-in for the sealed airline set: 421 inbound tweets to airlines from
/// the Customer Support on Twitter sample, hand-labeled by us (labels in
/// `assets/eval_twcs_care_labels.csv`, texts read from `../shared/data`).
#[test]
fn care_targets_on_hand_labeled_airline_tweets() {
    let data = Path::new(DATA);
    let Some(rows) = sunward::enrich::eval::twcs_care(data, "airline") else {
        println!("SKIP care targets: {DATA}/twcs not found");
        return;
    };
    assert_eq!(rows.len(), 421, "every hand label finds its tweet");
    let (ours, vader) = ours_and_vader("twcs airline", &rows);
    // Measured 0.665 / 0.778 (VADER 0.529 / 0.467); floors a little under, above the targets.
    assert!(
        ours.macro_f1 >= 0.635 && ours.recall[0] >= 0.765,
        "{}",
        ours.line()
    );
    assert!(ours.recall[0] > vader.recall[0] + 0.25);
}

/// App support traffic (600 random tweets to @SpotifyCares, hand-labeled by us): bug reports
/// with few sentiment words. No issue target here; the floors guard the care rules that
/// read "still not fixed", "won't play", "nope :(" right.
#[test]
fn spotify_support_tweets() {
    let Some(rows) = sunward::enrich::eval::twcs_care(Path::new(DATA), "spotify") else {
        println!("SKIP spotify support tweets: {DATA}/twcs not found");
        return;
    };
    assert_eq!(rows.len(), 600, "every hand label finds its tweet");
    let (ours, _) = ours_and_vader("spotify", &rows);
    // Measured 0.678 / 0.613 (VADER 0.535 / 0.292).
    assert!(
        ours.macro_f1 >= 0.65 && ours.recall[0] >= 0.58,
        "{}",
        ours.line()
    );
}

/// The learning engine on care traffic: all 1,151 hand-labeled care tweets (airlines, other
/// brands, @SpotifyCares) as one mixed stream, predict-then-learn, counted after the first half.
#[test]
fn learning_engine_on_care_tweets() {
    let data = Path::new(DATA);
    let Some(rows) = sunward::enrich::eval::twcs_care_all(data) else {
        println!("SKIP learning on care tweets: {DATA}/twcs not found");
        return;
    };
    assert_eq!(rows.len(), 1151);
    let half = rows.len() / 2;
    let a = Analyzer::new();
    let m = sunward::enrich::eval::prequential(&a, &rows, half);
    let d = sunward::enrich::eval::evaluate(&a, &rows[half..]);
    println!(
        "care stream learning {}\ncare stream default  {}",
        m.line(),
        d.line()
    );
    // Measured 0.749 after 575 corrections (default engine on the same half 0.66).
    assert!(m.macro_f1 >= 0.73, "{}", m.line());
    assert!(m.macro_f1 > d.macro_f1 + 0.05, "{}", m.line());
}

/// Our own authored care tweets (tests/fixtures/sentiment_care.ndjson, no shared data): the
/// default engine must catch complaints that plain VADER misses.
#[test]
fn care_fixture_default_engine_beats_vader() {
    let text = include_str!("fixtures/sentiment_care.ndjson");
    let rows = sunward::enrich::eval::ndjson_rows(text);
    assert!(rows.len() >= 100);
    let (ours, vader) = ours_and_vader("care fixture", &rows);
    // Written while tuning the care layer, so optimistic; the floors guard against regressions.
    assert!(
        ours.macro_f1 >= 0.85 && ours.recall[0] >= 0.9,
        "{}",
        ours.line()
    );
    assert!(ours.macro_f1 > vader.macro_f1 + 0.2);
}

/// The learning engine in a predict-then-learn stream beats the default engine on the
/// shared sets after the first 2,000 texts, also on the sets resampled to care traffic's
/// class mix (63% negative), where macro-F1 depends on the rare classes.
#[test]
fn learning_engine_prequential() {
    if !Path::new(DATA).is_dir() {
        println!("SKIP learning_engine_prequential: {DATA} not found");
        return;
    }
    let data = Path::new(DATA);
    let a = Analyzer::new();
    let tse = sunward::enrich::eval::tweet_sentiment_extraction(data);
    let te = sunward::enrich::eval::tweeteval(data, "test");
    let mix = |r: &Option<Rows>| r.as_deref().map(sunward::enrich::eval::care_mix);
    // (set, floor macro-F1 after 2,000, floor recall of the rarest class), ~0.012 under the
    // measured 0.733 / 0.628, 0.665 / 0.628, 0.697 / 0.484, 0.632 / 0.363 (before naive Bayes
    // and class weights: 0.718, 0.647, 0.676, 0.615 macro-F1).
    for (name, rows, floor, floor_rare) in [
        ("tweet_sentiment_extraction", tse.clone(), 0.72, 0.6),
        ("tweeteval test", te.clone(), 0.65, 0.6),
        (
            "tweet_sentiment_extraction, care mix",
            mix(&tse),
            0.685,
            0.47,
        ),
        ("tweeteval test, care mix", mix(&te), 0.62, 0.35),
    ] {
        let Some(rows) = rows else {
            println!("SKIP {name}: missing");
            continue;
        };
        let m = sunward::enrich::eval::prequential(&a, &rows, 2000);
        let d = sunward::enrich::eval::evaluate(&a, &rows[2000..]);
        println!(
            "{name:<38} learning {}\n{name:<38} default  {}",
            m.line(),
            d.line()
        );
        assert!(m.macro_f1 >= floor, "{name}: {}", m.line());
        let rare = m.recall.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(rare >= floor_rare, "{name}: rare class recall {rare:.3}");
        assert!(
            m.macro_f1 > d.macro_f1 + 0.05,
            "{name}: learning does not beat the default engine"
        );
    }
}
