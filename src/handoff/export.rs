//! A brief as Markdown (with the chart as separate PNG/SVG files) and as one print-ready HTML
//! page (chart inlined as an `<img>` data URI). Post text and everything people typed (notes,
//! watch items, customer handles, alert titles) is escaped: it is hostile input.

use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, TimeZone, Utc};

use super::model::{Brief, BriefCase, Moved};

fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

/// `in 42 min`, `3 h 5 min ago`.
pub fn relative(due: i64, now: i64) -> String {
    let m = (due - now) / 60_000;
    let a = m.abs();
    let s = if a >= 60 {
        format!("{} h {} min", a / 60, a % 60)
    } else {
        format!("{a} min")
    };
    if m >= 0 {
        format!("in {s}")
    } else {
        format!("{s} ago")
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Escapes Markdown so a customer handle or a note cannot become a link, an image or markup.
pub fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '<' | '>' => {
                o.push('\\');
                o.push(c);
            }
            '\n' | '\r' => o.push(' '),
            _ => o.push(c),
        }
    }
    o
}

/// Who holds a case in the brief: its new owner after the move (and who had it), or its
/// owner, the queue, or a finishing agent who keeps it. The same in every export.
fn owner_text(moved: &[Moved], k: &BriefCase) -> String {
    match moved.iter().find(|m| m.case_id == k.id) {
        Some(m) => format!("{} (was {})", m.to, m.from.as_deref().unwrap_or("nobody")),
        None => {
            let o = k.owner.clone().unwrap_or_else(|| "queue".into());
            if k.kept {
                format!("{o} (finishing, keeps it)")
            } else {
                o
            }
        }
    }
}

fn status_line(b: &Brief) -> String {
    let mut s = format!("status: {}", b.status);
    if let (Some(who), Some(at)) = (&b.signed_by, b.signed_at) {
        s.push_str(&format!("; signed by {who} at {}", iso(at)));
    }
    if let (Some(who), Some(at)) = (&b.acked_by, b.acked_at) {
        s.push_str(&format!("; acknowledged by {who} at {}", iso(at)));
    }
    if b.escalation_step > 0 {
        s.push_str(&format!("; escalated {} step(s)", b.escalation_step));
    }
    s
}

/// The brief as Markdown; `chart` is the file name of the chart image next to it.
pub fn markdown(b: &Brief, chart: Option<&str>, now: i64) -> String {
    let e = md_escape;
    let c = &b.content;
    let mut o = format!(
        "# Handoff brief {}: {} -> {}\n\n{}  \ngenerated {} (window {} to {})\n\n",
        b.id,
        e(&b.from_site),
        e(&b.to_site),
        e(&status_line(b)),
        iso(c.generated_at),
        iso(c.window_from),
        iso(c.window_to)
    );
    o.push_str(&format!(
        "## Volume and sentiment\n\n{} mentions, {} negative, {} positive, net sentiment {:+.0}\n\n",
        c.total, c.negative, c.positive, c.net
    ));
    if let Some(f) = chart {
        o.push_str(&format!("![volume and net sentiment]({f})\n\n"));
    }
    o.push_str(&format!(
        "## Open cases ({}), breaching soonest first\n\n",
        c.cases.len()
    ));
    if c.cases.is_empty() {
        o.push_str("None.\n\n");
    } else {
        o.push_str("| case | track | customer | status | SLA | next deadline | owner |\n|---|---|---|---|---|---|---|\n");
        for k in &c.cases {
            let owner = owner_text(&c.moved, k);
            o.push_str(&format!(
                "| {}{} | {} | @{} | {} | {} | {} ({}) | {} |\n",
                k.id,
                if k.drill { " DRILL" } else { "" },
                e(&k.track),
                e(&k.customer),
                e(&k.status),
                e(&k.sla),
                iso(k.due),
                relative(k.due, now),
                e(&owner)
            ));
        }
        o.push('\n');
    }
    o.push_str(&format!("## Active alerts ({})\n\n", c.alerts.len()));
    if c.alerts.is_empty() {
        o.push_str("None.\n");
    }
    for a in &c.alerts {
        o.push_str(&format!(
            "- alert {} **{}** {}{}: {} (fired {})\n",
            a.id,
            e(&a.severity),
            e(&a.state),
            a.acked_by
                .as_ref()
                .map(|w| format!(" by {}", e(w)))
                .unwrap_or_default(),
            e(&a.title),
            iso(a.fired_at)
        ));
    }
    o.push_str(&format!("\n## Watch items ({})\n\n", b.watch.len()));
    if b.watch.is_empty() {
        o.push_str("None.\n");
    }
    for w in &b.watch {
        o.push_str(&format!(
            "- {} `{}`{}\n",
            e(&w.kind),
            w.value.replace('`', "'"),
            if w.note.is_empty() {
                String::new()
            } else {
                format!(": {}", e(&w.note))
            }
        ));
    }
    o.push_str("\n## Notes\n\n");
    if b.notes.trim().is_empty() {
        o.push_str("None.\n");
    } else {
        for line in b.notes.lines() {
            o.push_str(&format!("> {}\n", e(line)));
        }
    }
    if !b.items.is_empty() {
        o.push_str("\n## Acknowledgement\n\n");
        for it in &b.items {
            o.push_str(&format!(
                "- [{}] {}. {}{}\n",
                if it.acked_by.is_some() { "x" } else { " " },
                it.n,
                e(&it.label),
                it.acked_by
                    .as_ref()
                    .map(|w| format!(" (by {})", e(w)))
                    .unwrap_or_default()
            ));
        }
    }
    if !b.contacts.is_empty() {
        o.push_str("\n## On call at the incoming site\n\n");
        for c in &b.contacts {
            o.push_str(&format!("- {}: {}\n", e(&c.role), e(&c.who)));
        }
    }
    o
}

/// One print-ready HTML page; the chart SVG is inlined as an image (never as markup).
pub fn html(b: &Brief, chart_svg: Option<&str>, now: i64) -> String {
    let e = html_escape;
    let c = &b.content;
    let mut o = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">",
    );
    o.push_str(&format!(
        "<title>Handoff brief {} {} to {}</title>",
        b.id,
        e(&b.from_site),
        e(&b.to_site)
    ));
    o.push_str(
        "<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}\
         table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:4px 6px;text-align:left}\
         .breached{color:#b00;font-weight:bold}.warning{color:#a60}img{max-width:100%}\
         @media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}</style></head><body>",
    );
    o.push_str(&format!(
        "<h1>Handoff brief {}: {} &rarr; {}</h1><p>{}<br>generated {} (window {} to {})</p>",
        b.id,
        e(&b.from_site),
        e(&b.to_site),
        e(&status_line(b)),
        iso(c.generated_at),
        iso(c.window_from),
        iso(c.window_to)
    ));
    o.push_str(&format!(
        "<h2>Volume and sentiment</h2><p>{} mentions, {} negative, {} positive, net sentiment {:+.0}</p>",
        c.total, c.negative, c.positive, c.net
    ));
    if let Some(svg) = chart_svg {
        o.push_str(&format!(
            "<img alt=\"volume and net sentiment\" src=\"data:image/svg+xml;base64,{}\">",
            base64(svg.as_bytes())
        ));
    }
    o.push_str(&format!(
        "<h2>Open cases ({})</h2><table><tr><th>case</th><th>track</th><th>customer</th><th>status</th><th>SLA</th><th>next deadline</th><th>owner</th></tr>",
        c.cases.len()
    ));
    for k in &c.cases {
        let owner = owner_text(&c.moved, k);
        o.push_str(&format!(
            "<tr><td>{}{}</td><td>{}</td><td>@{}</td><td>{}</td><td class=\"{}\">{}</td><td>{} ({})</td><td>{}</td></tr>",
            k.id,
            if k.drill { " DRILL" } else { "" },
            e(&k.track),
            e(&k.customer),
            e(&k.status),
            e(&k.sla),
            e(&k.sla),
            iso(k.due),
            relative(k.due, now),
            e(&owner)
        ));
    }
    o.push_str("</table>");
    o.push_str(&format!("<h2>Active alerts ({})</h2><ul>", c.alerts.len()));
    for a in &c.alerts {
        o.push_str(&format!(
            "<li>alert {} <b>{}</b> {}: {}</li>",
            a.id,
            e(&a.severity),
            e(&a.state),
            e(&a.title)
        ));
    }
    o.push_str(&format!(
        "</ul><h2>Watch items ({})</h2><ul>",
        b.watch.len()
    ));
    for w in &b.watch {
        o.push_str(&format!(
            "<li>{} <code>{}</code> {}</li>",
            e(&w.kind),
            e(&w.value),
            e(&w.note)
        ));
    }
    o.push_str("</ul><h2>Notes</h2>");
    for line in b.notes.lines() {
        o.push_str(&format!("<p>{}</p>", e(line)));
    }
    if !b.items.is_empty() {
        o.push_str("<h2>Acknowledgement</h2><ol>");
        for it in &b.items {
            o.push_str(&format!(
                "<li>{} {}</li>",
                if it.acked_by.is_some() {
                    "&#9745;"
                } else {
                    "&#9744;"
                },
                e(&it.label)
            ));
        }
        o.push_str("</ol>");
    }
    o.push_str("</body></html>\n");
    o
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        o.push(T[(n >> 18) as usize & 63] as char);
        o.push(T[(n >> 12) as usize & 63] as char);
        o.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        o.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    o
}

/// Writes `brief-ID.md`, `brief-ID.html`, `brief-ID.svg` and `brief-ID.png` into `dir`.
/// `offset_secs`: the outgoing site's UTC offset, for the chart's time labels.
pub fn write_files(
    b: &Brief,
    dir: &Path,
    now: i64,
    offset_secs: i32,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let stem = format!("brief-{}", b.id);
    let svg = super::chart::svg(&b.content.series, 1200, 420, offset_secs)?;
    let png = super::chart::png(&b.content.series, 1200, 420)?;
    let files = [
        (format!("{stem}.svg"), svg.clone().into_bytes()),
        (format!("{stem}.png"), png),
        (
            format!("{stem}.md"),
            markdown(b, Some(&format!("{stem}.png")), now).into_bytes(),
        ),
        (
            format!("{stem}.html"),
            html(b, Some(&svg), now).into_bytes(),
        ),
    ];
    let mut out = Vec::new();
    for (name, bytes) in files {
        let p = dir.join(name);
        std::fs::write(&p, bytes)?;
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handoff::model::{BriefCase, Content, Watch};

    fn brief() -> Brief {
        Brief {
            id: 3,
            from_site: "austin".into(),
            to_site: "singapore".into(),
            from_shift: None,
            to_shift: None,
            shift_end: None,
            status: "draft".into(),
            content: Content {
                cases: vec![BriefCase {
                    id: 1,
                    track: "standard".into(),
                    status: "assigned".into(),
                    owner: Some("ana".into()),
                    customer: "<script>alert(1)</script>".into(),
                    channel: "x".into(),
                    topic: None,
                    sla: "warning".into(),
                    first_due: 0,
                    next_due: None,
                    resolution_due: 0,
                    due: 0,
                    drill: false,
                    kept: false,
                }],
                ..Default::default()
            },
            notes: "watch <img src=x onerror=alert(1)> and [link](http://evil)".into(),
            watch: vec![Watch {
                kind: "author".into(),
                value: "bob\"><b>".into(),
                note: String::new(),
            }],
            bulk_agent: None,
            contacts: vec![],
            escalate_after_ms: 60_000,
            escalation_step: 0,
            escalated_at: None,
            created_by: "maria".into(),
            created_at: 0,
            updated_by: None,
            updated_at: 0,
            signed_by: None,
            signed_at: None,
            acked_by: None,
            acked_at: None,
            items: vec![],
        }
    }

    #[test]
    fn html_escapes_everything_people_typed() {
        let h = html(&brief(), Some("<svg></svg>"), 0);
        assert!(!h.contains("<script>"));
        assert!(!h.contains("<img src=x"));
        assert!(!h.contains("\"><b>"));
        assert!(h.contains("&lt;script&gt;"));
        // The chart is an image, never markup.
        assert!(h.contains("data:image/svg+xml;base64,"));
        assert!(!h.contains("<svg>"));
    }

    #[test]
    fn markdown_escapes_links_and_html() {
        let m = markdown(&brief(), Some("brief-3.png"), 0);
        assert!(m.contains("\\[link\\]\\(http://evil\\)"));
        assert!(m.contains("\\<script\\>"));
        assert!(m.contains("![volume and net sentiment](brief-3.png)"));
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative(42 * 60_000, 0), "in 42 min");
        assert_eq!(relative(0, 125 * 60_000), "2 h 5 min ago");
    }
}
