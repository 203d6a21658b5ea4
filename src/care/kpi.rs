//! KPIs of the care workflow, computed from what the store returns for a window.
//!
//! Percentiles are nearest-rank: the p-th percentile of n sorted values is the value at rank
//! ceil(p/100 * n) (so the median of 4 values is the 2nd). SLA met % is over cases whose first
//! response is known or overdue (an open case not yet due is not counted either way).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::{KpiCase, KpiData};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Brand,
    Topic,
    Agent,
}

impl std::str::FromStr for By {
    type Err = String;
    fn from_str(s: &str) -> Result<By, String> {
        match s {
            "brand" => Ok(By::Brand),
            "topic" => Ok(By::Topic),
            "agent" => Ok(By::Agent),
            o => Err(format!("unknown grouping `{o}`; use brand, topic or agent")),
        }
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseKpis {
    pub key: String,
    pub opened: usize,
    pub responded: usize,
    pub first_response_median_ms: Option<i64>,
    pub first_response_p90_ms: Option<i64>,
    pub sla_met_pct: Option<f64>,
    pub sla_counted: usize,
    pub resolved: usize,
}

fn case_kpis(key: String, cases: &[&KpiCase], now: i64) -> CaseKpis {
    let mut frt: Vec<i64> = cases
        .iter()
        .filter_map(|c| c.first_response_at.map(|t| (t - c.opened_at).max(0)))
        .collect();
    frt.sort_unstable();
    let counted: Vec<&&KpiCase> = cases
        .iter()
        .filter(|c| c.first_response_at.is_some() || now > c.first_due)
        .collect();
    let met = counted
        .iter()
        .filter(|c| c.first_response_at.is_some_and(|t| t <= c.first_due))
        .count();
    CaseKpis {
        key,
        opened: cases.len(),
        responded: frt.len(),
        first_response_median_ms: percentile(&frt, 50.0),
        first_response_p90_ms: percentile(&frt, 90.0),
        sla_met_pct: (!counted.is_empty())
            .then(|| (met as f64 * 1000.0 / counted.len() as f64).round() / 10.0),
        sla_counted: counted.len(),
        resolved: cases
            .iter()
            .filter(|c| {
                c.resolved_at.is_some()
                    || matches!(c.status.as_str(), "resolved" | "follow_up_due" | "closed")
            })
            .count(),
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RealFrt {
    pub brand: String,
    pub answered: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub from: i64,
    pub to: i64,
    pub by: Option<String>,
    pub total: CaseKpis,
    pub groups: Vec<CaseKpis>,
    pub backlog: i64,
    pub do_not_respond: BTreeMap<String, i64>,
    pub responses_per_agent: Vec<ResponsesBy>,
    /// First-response times rebuilt from conversation data: per brand, from a customer's
    /// opening post to the brand's first reply to it.
    pub real_first_response: Vec<RealFrt>,
    pub real_openers: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResponsesBy {
    pub author: String,
    /// A brand reply read from a feed rather than one written in Sunward.
    pub external: bool,
    pub responses: i64,
}

/// The KPI charts `kpi.export {chart}` and `sunward kpi --svg DIR` draw.
pub const CHARTS: [&str; 6] = [
    "first_response_median",
    "first_response_p90",
    "sla_met",
    "real_first_response",
    "responses_per_agent",
    "do_not_respond",
];

/// Caption and bars of one KPI chart; `None` for an unknown name. Times are in minutes.
pub fn chart_rows(r: &Report, name: &str) -> Option<(String, Vec<(String, f64)>)> {
    let min = |ms: Option<i64>| ms.map(|v| v as f64 / 60_000.0);
    let groups = |f: &dyn Fn(&CaseKpis) -> Option<f64>| -> Vec<(String, f64)> {
        r.groups
            .iter()
            .filter_map(|g| f(g).map(|v| (g.key.clone(), v)))
            .collect()
    };
    let by = r.by.as_deref().unwrap_or("all");
    Some(match name {
        "first_response_median" => (
            format!("First response, median (min), by {by}"),
            groups(&|g| min(g.first_response_median_ms)),
        ),
        "first_response_p90" => (
            format!("First response, p90 (min), by {by}"),
            groups(&|g| min(g.first_response_p90_ms)),
        ),
        "sla_met" => (
            format!("First-response SLA met (%), by {by}"),
            groups(&|g| g.sla_met_pct),
        ),
        "real_first_response" => {
            let mut rows: Vec<(String, f64)> = r
                .real_first_response
                .iter()
                .filter_map(|b| min(b.median_ms).map(|v| (b.brand.clone(), v)))
                .collect();
            rows.sort_by(|a, b| b.1.total_cmp(&a.1));
            (
                "Real first response from conversations, median (min)".into(),
                rows,
            )
        }
        "responses_per_agent" => (
            "Responses per agent".into(),
            r.responses_per_agent
                .iter()
                .map(|a| (a.author.clone(), a.responses as f64))
                .collect(),
        ),
        "do_not_respond" => (
            "Do not respond, by reason".into(),
            r.do_not_respond
                .iter()
                .map(|(k, v)| (k.clone(), *v as f64))
                .collect(),
        ),
        _ => return None,
    })
}

pub fn report(data: &KpiData, from: i64, to: i64, by: Option<By>, now: i64) -> Report {
    let all: Vec<&KpiCase> = data.cases.iter().collect();
    let mut groups: BTreeMap<String, Vec<&KpiCase>> = BTreeMap::new();
    if let Some(by) = by {
        for c in &data.cases {
            let k = match by {
                By::Brand => c.brand.clone(),
                By::Topic => c.topic.clone(),
                By::Agent => c.owner.clone(),
            };
            groups
                .entry(k.unwrap_or_else(|| "(none)".into()))
                .or_default()
                .push(c);
        }
    }
    let mut real: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in &data.real {
        let d = r.answered_at - r.asked_at;
        if d >= 0 {
            real.entry(r.brand.clone()).or_default().push(d);
        }
    }
    Report {
        from,
        to,
        by: by.map(|b| format!("{b:?}").to_lowercase()),
        total: case_kpis("all".into(), &all, now),
        groups: groups
            .into_iter()
            .map(|(k, v)| case_kpis(k, &v, now))
            .collect(),
        backlog: data.backlog,
        do_not_respond: data.do_not_respond.iter().cloned().collect(),
        responses_per_agent: data
            .responses
            .iter()
            .map(|(a, e, n)| ResponsesBy {
                author: a.clone(),
                external: *e,
                responses: *n,
            })
            .collect(),
        real_first_response: real
            .into_iter()
            .map(|(brand, mut v)| {
                v.sort_unstable();
                RealFrt {
                    brand,
                    answered: v.len(),
                    median_ms: percentile(&v, 50.0),
                    p90_ms: percentile(&v, 90.0),
                }
            })
            .collect(),
        real_openers: data.openers,
    }
}

/// The report's groups (or the total) as CSV.
pub fn to_csv(r: &Report) -> String {
    let mut out = String::from(
        "group,opened,responded,first_response_median_s,first_response_p90_s,sla_met_pct,resolved\n",
    );
    let rows = if r.groups.is_empty() {
        std::slice::from_ref(&r.total)
    } else {
        &r.groups[..]
    };
    let secs = |v: Option<i64>| v.map(|ms| (ms / 1000).to_string()).unwrap_or_default();
    for g in rows {
        let key = g.key.replace('"', "\"\"");
        out.push_str(&format!(
            "\"{key}\",{},{},{},{},{},{}\n",
            g.opened,
            g.responded,
            secs(g.first_response_median_ms),
            secs(g.first_response_p90_ms),
            g.sla_met_pct.map(|p| p.to_string()).unwrap_or_default(),
            g.resolved
        ));
    }
    out.push_str("\nbrand,answered,real_first_response_median_s,real_first_response_p90_s\n");
    for b in &r.real_first_response {
        out.push_str(&format!(
            "\"{}\",{},{},{}\n",
            b.brand.replace('"', "\"\""),
            b.answered,
            secs(b.median_ms),
            secs(b.p90_ms)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[5], 90.0), Some(5));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90.0), Some(9));
        assert_eq!(
            percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90.0),
            Some(10)
        );
    }
}
