//! Every shipped drill runs end to end through ingest, detection, alerts and escalation, is
//! marked DRILL everywhere, and yields a report.

use std::sync::Arc;

use sunward::alerts::AlertsConfig;
use sunward::config::Config;
use sunward::drills::{self, runner};
use sunward::enrich::Enricher;
use sunward::store::{AlertQuery, Store};

#[tokio::test]
async fn every_shipped_drill_yields_a_report_and_stays_a_drill() {
    let cfg = Config::load(Some(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/config.toml"
    ))))
    .unwrap();
    let topics: Vec<String> = cfg.topics.iter().map(|t| t.name.clone()).collect();
    for (name, _) in drills::SHIPPED {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("d.db")).await.unwrap();
        let (sc, steps, file) = drills::load(name, &topics).unwrap();
        let opts = runner::Options {
            speed: 100_000.0,
            bus: None,
            out_dir: dir.path().join("reports"),
            alerts: AlertsConfig::builtin(),
            enricher: Arc::new(Enricher::new(cfg.query_set())),
        };
        let (outcome, path) = runner::run(store.clone(), sc, steps, &file, opts)
            .await
            .unwrap();
        assert!(path.is_file(), "{name}: no report at {}", path.display());
        let html = std::fs::read_to_string(&path).unwrap();
        assert!(html.contains("DRILL"), "{name}");
        for f in ["report.json", "timeline.csv", "volume.svg"] {
            assert!(path.with_file_name(f).is_file(), "{name}: no {f}");
        }
        let alerts = store.alerts_list(&AlertQuery::default()).await.unwrap();
        assert!(!alerts.is_empty(), "{name}: the drill fired no alert");
        assert!(
            alerts
                .iter()
                .all(|a| a.drill && a.drill_run.as_deref() == Some(outcome.run.as_str())),
            "{name}: a drill alert not marked"
        );
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(path.with_file_name("report.json")).unwrap(),
        )
        .unwrap();
        let detection = &summary["timeline"][1];
        assert_eq!(detection["what"], "detection");
        assert!(
            detection["minutes"].as_f64().is_some(),
            "{name}: not detected: {summary}"
        );
        let runs = store.drill_runs(5).await.unwrap();
        assert_eq!(runs[0].state, "finished");
    }
}

#[test]
fn a_bad_scenario_is_rejected_with_its_line() {
    let text = "name = \"x\"\nduration_minutes = 30\n[[inject]]\nat = \"00:10\"\ncount = 2\ntopic = \"nope\"\ntexts = [\"a b c d\"]\n";
    let e = drills::parse(text, "bad.toml", &["delays".to_string()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.toml line 6"), "{e}");
}
