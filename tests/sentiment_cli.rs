//! `sunward classify`: the NDJSON contract (one line out per line in, in order, errors per
//! line, `--learn` prequential, `--model` from `model export`/`classify --save`).
use std::io::Write;
use std::process::{Command, Stdio};

fn classify(args: &[&str], input: &str) -> (Vec<serde_json::Value>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sunward"))
        .arg("classify")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sunward");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (lines, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn good_bad_and_missing_text_lines() {
    let input = concat!(
        "{\"id\": 1, \"text\": \"@SkyJetAir my flight got cancelled and nobody answers the phone\"}\n",
        "this is not json\n",
        "{\"id\": \"b\", \"label\": \"negative\"}\n",
        "{\"id\": {\"x\": [1, 2]}, \"text\": 42}\n",
        "\n",
        "{\"text\": \"Thanks for the quick response, all sorted now!\", \"id\": 5}\n",
        "{\"id\": 6, \"text\": \"What time does the store open?\", \"label\": \"bogus\"}\n",
    );
    let (out, stderr) = classify(&[], input);
    assert_eq!(out.len(), 6, "one line per non-blank input line");
    assert_eq!(out[0]["id"], 1);
    assert_eq!(out[0]["label"], "negative");
    let score = out[0]["score"].as_f64().unwrap();
    assert!((-1.0..=1.0).contains(&score) && score < 0.0);
    let conf = out[0]["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&conf));
    assert!(out[1]["id"].is_null());
    assert!(out[1]["error"].as_str().unwrap().contains("invalid JSON"));
    assert_eq!(out[2]["id"], "b");
    assert!(out[2]["error"].as_str().unwrap().contains("text"));
    assert_eq!(out[3]["id"], serde_json::json!({"x": [1, 2]}));
    assert!(out[3]["error"].is_string());
    assert_eq!(out[4]["id"], 5);
    assert_eq!(out[4]["label"], "positive");
    assert_eq!(
        out[5]["label"], "neutral",
        "labels are ignored without --learn"
    );
    assert!(stderr.contains("6 lines, 3 errors"), "{stderr}");
}

#[test]
fn learn_is_prequential_and_model_round_trips() {
    // A domain rule the default engine does not know: "lounge closed" posts are negative.
    let mut input = String::new();
    for i in 0..30 {
        input.push_str(&format!(
            "{{\"id\": {i}, \"text\": \"is the lounge in terminal {i} open yet\", \"label\": \"negative\"}}\n"
        ));
    }
    let (plain, _) = classify(&[], &input);
    assert!(plain.iter().all(|l| l["label"] == "neutral"));
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.bin");
    let (learned, stderr) = classify(&["--learn", "--save", model.to_str().unwrap()], &input);
    // First line predicted before anything was learned: the default engine's answer.
    assert_eq!(learned[0]["label"], "neutral");
    assert_eq!(learned[29]["label"], "negative", "{learned:?}");
    assert!(stderr.contains("30 learned"), "{stderr}");
    let (with_model, _) = classify(
        &["--model", model.to_str().unwrap()],
        "{\"id\": 1, \"text\": \"is the lounge in terminal 77 open yet\"}\n",
    );
    assert_eq!(with_model[0]["label"], "negative");
}

#[test]
fn unusable_model_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.bin");
    std::fs::write(&bad, b"not a model").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sunward"))
        .args(["classify", "--model", bad.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model"));
}
