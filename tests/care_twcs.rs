//! Replaying real twcs conversations through the default playbook: cases get owners and SLA
//! clocks, first responses are matched from the brands' real replies, and the KPI figures
//! equal an independent computation straight from the CSV (csv crate + chrono, no Sunward
//! parser, no database).

mod common;

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};
use sunward::api::{App, AppOptions};
use sunward::clock::Clock;

struct Row {
    id: String,
    author: String,
    inbound: bool,
    at: i64,
    parent: Option<String>,
}

fn read_csv(path: &std::path::Path) -> Vec<Row> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_path(path)
        .expect("csv");
    let headers = rdr.headers().expect("headers").clone();
    let col = |n: &str| headers.iter().position(|h| h == n).expect(n);
    let (id, author, inbound, created, parent) = (
        col("tweet_id"),
        col("author_id"),
        col("inbound"),
        col("created_at"),
        col("in_response_to_tweet_id"),
    );
    let mut rows = Vec::new();
    for r in rdr.records() {
        let Ok(r) = r else { continue };
        if r.len() != headers.len() {
            continue;
        }
        let Ok(t) = chrono::DateTime::parse_from_str(&r[created], "%a %b %d %H:%M:%S %z %Y") else {
            continue;
        };
        let p = r[parent].trim();
        rows.push(Row {
            id: r[id].trim().to_string(),
            author: r[author].trim().to_string(),
            inbound: r[inbound].trim().eq_ignore_ascii_case("true"),
            at: t.timestamp_millis(),
            parent: (!p.is_empty()).then(|| p.trim_end_matches(".0").to_string()),
        });
    }
    rows
}

fn nearest_rank(v: &mut [i64], p: f64) -> i64 {
    v.sort_unstable();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.max(1) - 1]
}

/// Per brand: (answered openers, median ms, p90 ms), and per opener the first reply time.
/// Per brand: (answered, median ms, p90 ms).
type PerBrand = BTreeMap<String, (usize, i64, i64)>;

fn independent(rows: &[Row]) -> (PerBrand, HashMap<String, i64>) {
    let openers: HashMap<&str, &Row> = rows
        .iter()
        .filter(|r| r.inbound && r.parent.is_none())
        .map(|r| (r.id.as_str(), r))
        .collect();
    // Earliest brand reply per opener (ties: first in the file, as tweet ids grow with time).
    let mut first: HashMap<String, (i64, String)> = HashMap::new();
    for r in rows.iter().filter(|r| !r.inbound) {
        let Some(p) = &r.parent else { continue };
        let Some(o) = openers.get(p.as_str()) else {
            continue;
        };
        let e = first
            .entry(o.id.clone())
            .or_insert((r.at, r.author.clone()));
        if r.at < e.0 {
            *e = (r.at, r.author.clone());
        }
    }
    let mut per: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut answered = HashMap::new();
    for (opener, (at, brand)) in &first {
        let d = at - openers[opener.as_str()].at;
        if d >= 0 {
            per.entry(brand.clone()).or_default().push(d);
        }
        answered.insert(opener.clone(), *at);
    }
    let kpi = per
        .into_iter()
        .map(|(b, mut v)| {
            let n = v.len();
            (
                b,
                (n, nearest_rank(&mut v, 50.0), nearest_rank(&mut v, 90.0)),
            )
        })
        .collect();
    (kpi, answered)
}

#[tokio::test]
async fn twcs_replay_matches_an_independent_computation() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let path = data.join("twcs/twcs_head_monalisapatra26.csv");
    if !path.exists() {
        eprintln!("skipped: {} not found", path.display());
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // The replay runs "now" = just after the data, so SLA states are as they were then.
    let clock = Clock::manual(
        chrono::DateTime::parse_from_rfc3339("2017-12-31T00:00:00Z")
            .unwrap()
            .timestamp_millis(),
    );
    let app = App::start(AppOptions {
        db: Some(dir.path().join("twcs.db").into()),
        clock: Some(clock.clone()),
        ..AppOptions::default()
    })
    .await
    .expect("app");
    for (name, cap) in [("ana", 400), ("bo", 400), ("cy", 400)] {
        app.dispatch(
            "agents.add",
            json!({ "name": name, "capacity": cap, "presence": "online", "skills": ["tier2", "legal", "crisis"] }),
        )
        .await
        .expect("agent");
    }
    let (_, report) = app
        .ingestor()
        .ingest_path(&path, None, &mut |_| {})
        .await
        .expect("ingest");
    assert_eq!(report.stored, 5000, "{report:?}");

    let k = app
        .dispatch("kpi.report", json!({ "from": 0, "by": "brand" }))
        .await
        .expect("kpi");
    let rows = read_csv(&path);
    let (expected, answered) = independent(&rows);
    let got: BTreeMap<String, (usize, i64, i64)> = k["real_first_response"]
        .as_array()
        .expect("real")
        .iter()
        .map(|b| {
            (
                b["brand"].as_str().unwrap_or_default().to_string(),
                (
                    b["answered"].as_u64().unwrap_or(0) as usize,
                    b["median_ms"].as_i64().unwrap_or(-1),
                    b["p90_ms"].as_i64().unwrap_or(-1),
                ),
            )
        })
        .collect();
    assert!(expected.len() >= 10, "{expected:?}");
    assert_eq!(got, expected);
    for (brand, (n, median, p90)) in expected.iter().take(5) {
        eprintln!(
            "{brand}: {n} answered, first response median {} s, p90 {} s",
            median / 1000,
            p90 / 1000
        );
    }

    // Cases: opened from the inbound tweets, owned by the agents, with SLA clocks; each case
    // opened by an answered opener has the brand's real first reply as its first response.
    let cases = app
        .dispatch("cases.list", json!({ "limit": 10000 }))
        .await
        .expect("cases");
    let cases = cases["cases"].as_array().expect("cases").clone();
    assert!(cases.len() > 100, "{}", cases.len());
    assert!(
        cases.iter().all(|c| c["owner"].is_string()),
        "every case has an owner"
    );
    assert!(cases
        .iter()
        .all(|c| c["first_due"].as_i64() > c["opened_at"].as_i64()));
    let mut matched = 0;
    for c in cases.iter().take(300) {
        let d: Value = app
            .dispatch("cases.show", json!({ "id": c["id"] }))
            .await
            .expect("show");
        let opener = d["mentions"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["outcome"] == "open"))
            .and_then(|m| m["source_id"].as_str())
            .expect("opening mention")
            .to_string();
        if let Some(at) = answered.get(&opener) {
            assert_eq!(
                d["case"]["first_response_at"].as_i64(),
                Some(*at),
                "case {}",
                c["id"]
            );
            matched += 1;
        }
    }
    assert!(matched > 50, "only {matched} cases matched a real reply");
    let total = &k["total"];
    eprintln!(
        "cases {} responded {} median {} s p90 {} s sla met {}%; do-not-respond {}",
        total["opened"],
        total["responded"],
        total["first_response_median_ms"].as_i64().unwrap_or(0) / 1000,
        total["first_response_p90_ms"].as_i64().unwrap_or(0) / 1000,
        total["sla_met_pct"],
        k["do_not_respond"]
    );
}
