//! The drill report for executives: the timeline (first post, detection, acknowledgement, first
//! approved response, escalation steps), the times between them against the scenario's targets,
//! what was missed; as a page (`report.html`) and an export (`report.json`, `timeline.csv`,
//! `volume.svg` drawn with plotters). Every file says DRILL.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde_json::{json, Value};

use super::runner::Outcome;
use super::Scenario;
use crate::store::{AlertQuery, Store};

const MIN: i64 = 60_000;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    pub what: String,
    /// Drill time (ms), None = did not happen.
    pub at: Option<i64>,
    /// Minutes after the first post.
    pub minutes: Option<f64>,
    pub target_minutes: Option<i64>,
    /// met, missed, or "" for events without target.
    pub verdict: String,
    pub note: String,
}

fn rfc(ms: i64) -> String {
    crate::cli::alerts::rfc3339(ms)
}

/// Drill time for a wall-clock time, from the runner's (drill, wall) ticks.
fn drill_time(map: &[(i64, i64)], wall: i64) -> Option<i64> {
    map.iter().find(|(_, w)| *w >= wall).map(|(d, _)| *d)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub async fn write(
    store: &Store,
    sc: &Scenario,
    o: &Outcome,
    out_dir: &Path,
) -> anyhow::Result<(PathBuf, Value)> {
    let mut alerts = store
        .alerts_list(&AlertQuery {
            drill_run: Some(o.run.clone()),
            limit: 1000,
            ..AlertQuery::default()
        })
        .await?;
    alerts.sort_by_key(|a| (a.fired_at, a.id));
    let first = o.first_post;
    let since = |t: Option<i64>| -> Option<f64> {
        Some(((t? - first?) as f64 / MIN as f64 * 10.0).round() / 10.0)
    };
    let judge = |m: Option<f64>, target: i64| match m {
        Some(m) if m <= target as f64 => "met".to_string(),
        _ => "missed".to_string(),
    };
    let mut events = vec![Event {
        what: "first post".into(),
        at: first,
        minutes: first.map(|_| 0.0),
        target_minutes: None,
        verdict: String::new(),
        note: String::new(),
    }];
    let detected = alerts.first();
    let det_at = detected.map(|a| a.fired_at);
    events.push(Event {
        what: "detection".into(),
        at: det_at,
        minutes: since(det_at),
        target_minutes: Some(sc.targets.detect_minutes),
        verdict: judge(since(det_at), sc.targets.detect_minutes),
        note: detected
            .map(|a| format!("{} ({})", a.title, a.kind))
            .unwrap_or_else(|| "no alert fired".into()),
    });
    let ack_at = o.acked_seen.values().min().copied();
    let acked_by = alerts.iter().find_map(|a| a.acked_by.clone());
    events.push(Event {
        what: "acknowledgement".into(),
        at: ack_at,
        minutes: since(ack_at),
        target_minutes: Some(sc.targets.ack_minutes),
        verdict: judge(since(ack_at), sc.targets.ack_minutes),
        note: acked_by
            .map(|w| format!("by {w}"))
            .unwrap_or_else(|| "nobody acknowledged the drill alert".into()),
    });
    // First approved reply on a case opened from a drill post (issue 4's care store).
    let reply_wall = store
        .care_first_response_after(&format!("drill:{}", o.run), o.started_wall)
        .await
        .unwrap_or(None);
    let reply_at = reply_wall.and_then(|w| drill_time(&o.clock_map, w));
    events.push(Event {
        what: "first approved response".into(),
        at: reply_at,
        minutes: since(reply_at),
        target_minutes: Some(sc.targets.first_response_minutes),
        verdict: judge(since(reply_at), sc.targets.first_response_minutes),
        note: if reply_at.is_some() {
            "first sent reply on a drill case".into()
        } else {
            "no approved reply was sent on a case from the drill's posts".into()
        },
    });
    for a in &alerts {
        for l in store.alert_log(a.id).await? {
            if l.action == "notified" || l.action == "escalated" {
                events.push(Event {
                    what: format!("escalation: {}", l.who),
                    at: Some(l.at),
                    minutes: since(Some(l.at)),
                    target_minutes: None,
                    verdict: String::new(),
                    note: format!("alert {}: {}", a.id, l.detail),
                });
            }
        }
    }
    let missed: Vec<String> = events
        .iter()
        .filter(|e| e.verdict == "missed")
        .map(|e| match e.minutes {
            Some(m) => format!(
                "{}: {m} min against a target of {} min",
                e.what,
                e.target_minutes.unwrap_or(0)
            ),
            None => format!("{}: did not happen during the drill", e.what),
        })
        .collect();

    let dir = out_dir.join(&o.run);
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let svg = chart(o, det_at, ack_at)?;
    std::fs::write(dir.join("volume.svg"), &svg)?;
    let mut csv =
        String::from("event,drill_time,minutes_after_first_post,target_minutes,verdict,note\n");
    for e in &events {
        csv.push_str(&format!(
            "{},{},{},{},{},\"{}\"\n",
            e.what,
            e.at.map(rfc).unwrap_or_default(),
            e.minutes.map(|m| m.to_string()).unwrap_or_default(),
            e.target_minutes.map(|m| m.to_string()).unwrap_or_default(),
            e.verdict,
            e.note.replace('"', "'")
        ));
    }
    std::fs::write(dir.join("timeline.csv"), csv)?;
    let summary = json!({
        "drill": true, "run": o.run, "name": o.name, "file": o.file, "speed": o.speed,
        "start": rfc(o.start), "end": rfc(o.end), "stopped_early": o.stopped_early,
        "posts_injected": o.minutes.iter().map(|m| m.injected as u64).sum::<u64>(),
        "posts_background": o.minutes.iter().map(|m| m.background as u64).sum::<u64>(),
        "alerts": alerts.iter().map(|a| json!({"id": a.id, "kind": a.kind, "kinds": a.kinds, "severity": a.severity, "state": a.state, "title": a.title, "fired_at": rfc(a.fired_at)})).collect::<Vec<_>>(),
        "timeline": events, "missed": missed,
    });
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;

    let mut rows = String::new();
    for e in &events {
        rows.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&e.verdict),
            esc(&e.what),
            e.at.map(rfc).unwrap_or_else(|| "—".into()),
            e.minutes.map(|m| format!("{m} min")).unwrap_or_else(|| "—".into()),
            e.target_minutes.map(|m| format!("{m} min")).unwrap_or_default(),
            esc(&e.verdict),
            esc(&e.note)
        ));
    }
    let missed_html = if missed.is_empty() {
        "<p>Every target was met.</p>".to_string()
    } else {
        format!(
            "<ul>{}</ul>",
            missed
                .iter()
                .map(|m| format!("<li>{}</li>", esc(m)))
                .collect::<String>()
        )
    };
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>DRILL report: {name}</title>\
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}.drill{{background:#b00;color:#fff;padding:.2em .6em;font-weight:bold}}\
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.4em;text-align:left}}tr.missed td{{color:#b00}}tr.met td{{color:#070}}</style></head><body>\
<p><span class=\"drill\">DRILL</span> not a real incident; excluded from every KPI</p>\
<h1>{name}</h1><p>{summary}</p><p>Run <code>{run}</code> from {start} to {end} (drill time, {speed}x){stopped}.</p>\
<h2>Timeline</h2><table><tr><th>event</th><th>time</th><th>after first post</th><th>target</th><th>verdict</th><th>note</th></tr>{rows}</table>\
<h2>What was missed</h2>{missed}<h2>Volume</h2><img src=\"volume.svg\" alt=\"posts per minute during the drill\" width=\"900\">\
<p>Export: <a href=\"report.json\">report.json</a>, <a href=\"timeline.csv\">timeline.csv</a>, <a href=\"volume.svg\">volume.svg</a>.</p></body></html>",
        name = esc(&o.name),
        summary = esc(&sc.summary),
        run = esc(&o.run),
        start = rfc(o.start),
        end = rfc(o.end),
        speed = o.speed,
        stopped = if o.stopped_early { ", stopped early" } else { "" },
        rows = rows,
        missed = missed_html,
    );
    let path = dir.join("report.html");
    std::fs::write(&path, html)?;
    Ok((path, summary))
}

/// Posts per minute (background and injected) with the detection and acknowledgement marked.
fn chart(o: &Outcome, det: Option<i64>, ack: Option<i64>) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 360)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
        let n = o.minutes.len().max(1) as i64;
        let top = o
            .minutes
            .iter()
            .map(|m| m.background + m.injected)
            .max()
            .unwrap_or(1)
            .max(1) as f64
            * 1.15;
        let mut c = ChartBuilder::on(&root)
            .caption(
                format!("DRILL: {} - posts per minute", o.name),
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0i64..n, 0f64..top)
            .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
        c.configure_mesh()
            .x_desc("minutes into the drill")
            .y_desc("posts")
            .draw()
            .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
        let total: Vec<(i64, f64)> = o
            .minutes
            .iter()
            .enumerate()
            .map(|(i, m)| (i as i64, (m.background + m.injected) as f64))
            .collect();
        let bg: Vec<(i64, f64)> = o
            .minutes
            .iter()
            .enumerate()
            .map(|(i, m)| (i as i64, m.background as f64))
            .collect();
        c.draw_series(AreaSeries::new(total, 0.0, RED.mix(0.35)).border_style(RED))
            .map_err(|e| anyhow::anyhow!("chart: {e}"))?
            .label("all posts (drill)")
            .legend(|(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], RED.mix(0.35).filled()));
        c.draw_series(LineSeries::new(bg, BLUE))
            .map_err(|e| anyhow::anyhow!("chart: {e}"))?
            .label("background")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], BLUE));
        for (t, color, label) in [(det, BLACK, "detected"), (ack, GREEN, "acknowledged")] {
            if let Some(t) = t {
                let x = (t - o.start) / MIN;
                c.draw_series(LineSeries::new(
                    vec![(x, 0.0), (x, top)],
                    color.stroke_width(2),
                ))
                .map_err(|e| anyhow::anyhow!("chart: {e}"))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], color));
            }
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow::anyhow!("chart: {e}"))?;
        root.present().map_err(|e| anyhow::anyhow!("chart: {e}"))?;
    }
    Ok(svg)
}
