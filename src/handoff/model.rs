//! A handoff brief as stored and served.

use serde::{Deserialize, Serialize};

use crate::store::CaseRow;

/// Brief states, in order.
pub const DRAFT: &str = "draft";
pub const SIGNED: &str = "signed";
pub const ESCALATED: &str = "escalated";
pub const ACKNOWLEDGED: &str = "acknowledged";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Brief {
    pub id: i64,
    pub from_site: String,
    pub to_site: String,
    pub from_shift: Option<String>,
    pub to_shift: Option<String>,
    /// When the outgoing shift ends (UTC ms), if it was on duty at creation.
    pub shift_end: Option<i64>,
    /// draft, signed, escalated, acknowledged.
    pub status: String,
    pub content: Content,
    pub notes: String,
    pub watch: Vec<Watch>,
    /// Bulk transfer: every case to this agent instead of routing.
    pub bulk_agent: Option<String>,
    /// The incoming shift's on-call chain, in escalation order.
    pub contacts: Vec<Contact>,
    pub escalate_after_ms: i64,
    /// Escalation steps taken (0 = none).
    pub escalation_step: i64,
    pub escalated_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_by: Option<String>,
    pub updated_at: i64,
    pub signed_by: Option<String>,
    pub signed_at: Option<i64>,
    pub acked_by: Option<String>,
    pub acked_at: Option<i64>,
    /// Numbered items (written at signing; empty while a draft).
    pub items: Vec<Item>,
}

impl Brief {
    pub fn is_draft(&self) -> bool {
        self.status == DRAFT
    }
    /// Signed and not yet acknowledged (possibly escalated).
    pub fn is_pending(&self) -> bool {
        self.status != ACKNOWLEDGED
    }
}

/// The generated part of a brief.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Content {
    pub generated_at: i64,
    /// Volume/sentiment window `[from, to)`.
    pub window_from: i64,
    pub window_to: i64,
    /// Open cases, the one breaching soonest first.
    pub cases: Vec<BriefCase>,
    pub alerts: Vec<BriefAlert>,
    /// Per-bucket volume and net sentiment over the window.
    pub series: Vec<Point>,
    pub total: i64,
    pub negative: i64,
    pub positive: i64,
    /// (positive - negative) / total x 100.
    pub net: f64,
    /// After signing: who got which case.
    #[serde(default)]
    pub moved: Vec<Moved>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Point {
    pub t: i64,
    pub total: i64,
    pub negative: i64,
    pub neutral: i64,
    pub positive: i64,
    pub net: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BriefCase {
    pub id: i64,
    pub track: String,
    pub status: String,
    pub owner: Option<String>,
    pub customer: String,
    pub channel: String,
    pub topic: Option<String>,
    /// ok, warning, breached, met, missed.
    pub sla: String,
    pub first_due: i64,
    pub next_due: Option<i64>,
    pub resolution_due: i64,
    /// The next deadline: the first response while unanswered, else the next response, else
    /// the resolution.
    pub due: i64,
    pub drill: bool,
    /// Stays with its owner, who is finishing then away.
    #[serde(default)]
    pub kept: bool,
}

impl BriefCase {
    pub fn from_row(c: &CaseRow) -> BriefCase {
        let due = match c.first_response_at {
            None => c.first_due,
            Some(_) => c.next_due.unwrap_or(c.resolution_due),
        };
        BriefCase {
            id: c.id,
            track: c.track.clone(),
            status: c.status.clone(),
            owner: c.owner.clone(),
            customer: c.customer.clone(),
            channel: c.channel.clone(),
            topic: c.topic.clone(),
            sla: c.sla.clone(),
            first_due: c.first_due,
            next_due: c.next_due,
            resolution_due: c.resolution_due,
            due,
            drill: c.drill,
            kept: false,
        }
    }
}

/// Breaching soonest first, then by id.
pub fn sort_cases(cases: &mut [BriefCase]) {
    cases.sort_by_key(|c| (c.due, c.id));
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BriefAlert {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub state: String,
    pub title: String,
    pub topic: Option<String>,
    pub fired_at: i64,
    pub acked_by: Option<String>,
    pub drill: bool,
}

/// Something to keep an eye on: a topic or an author.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Watch {
    /// `topic` or `author`.
    pub kind: String,
    pub value: String,
    #[serde(default)]
    pub note: String,
}

impl Watch {
    /// Checks one watch item; the error names the field (`watch[2].kind`).
    pub fn check(&self, i: usize) -> Result<(), String> {
        if !matches!(self.kind.as_str(), "topic" | "author") {
            return Err(format!(
                "watch[{i}].kind: `{}` is not a kind; use topic or author",
                self.kind
            ));
        }
        if self.value.trim().is_empty() || self.value.len() > 200 {
            return Err(format!(
                "watch[{i}].value: give the topic or the author handle (1-200 characters)"
            ));
        }
        if self.note.len() > 2000 {
            return Err(format!("watch[{i}].note: at most 2000 characters"));
        }
        Ok(())
    }
}

/// One step of the incoming shift's on-call chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contact {
    /// lead, legal, exec.
    pub role: String,
    pub who: String,
}

/// A case that changed hands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Moved {
    pub case_id: i64,
    pub from: Option<String>,
    pub to: String,
    /// The new owner must act by then (UTC ms) or the case re-routes.
    pub act_by: i64,
}

/// A numbered item of a signed brief.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Item {
    pub n: i64,
    /// case, alert, watch, notes.
    pub kind: String,
    /// The case or alert id, the watch value.
    pub r#ref: String,
    pub label: String,
    pub acked_by: Option<String>,
    pub acked_at: Option<i64>,
}

/// The items of a brief about to be signed, numbered from 1: cases (soonest breach first),
/// alerts, watch items, then the notes.
pub fn items_of(content: &Content, watch: &[Watch], notes: &str) -> Vec<Item> {
    let mut out = Vec::new();
    let mut push = |kind: &str, r: String, label: String| {
        out.push(Item {
            n: out.len() as i64 + 1,
            kind: kind.into(),
            r#ref: r,
            label,
            acked_by: None,
            acked_at: None,
        })
    };
    for c in &content.cases {
        let who = content
            .moved
            .iter()
            .find(|m| m.case_id == c.id)
            .map(|m| format!(" -> {}", m.to))
            .unwrap_or_else(|| {
                if c.kept {
                    format!(" (kept by {})", c.owner.as_deref().unwrap_or("?"))
                } else {
                    String::new()
                }
            });
        push(
            "case",
            c.id.to_string(),
            format!(
                "case {} {} @{} sla {}{who}",
                c.id, c.track, c.customer, c.sla
            ),
        );
    }
    for a in &content.alerts {
        push(
            "alert",
            a.id.to_string(),
            format!("alert {} {} {}: {}", a.id, a.severity, a.state, a.title),
        );
    }
    for w in watch {
        push(
            "watch",
            w.value.clone(),
            format!("watch {} {}", w.kind, w.value),
        );
    }
    if !notes.trim().is_empty() {
        push("notes", String::new(), "notes".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_items_name_the_bad_field() {
        let w = Watch {
            kind: "hashtag".into(),
            value: "x".into(),
            note: String::new(),
        };
        assert!(w.check(2).unwrap_err().starts_with("watch[2].kind"));
        let w = Watch {
            kind: "topic".into(),
            value: " ".into(),
            note: String::new(),
        };
        assert!(w.check(0).unwrap_err().starts_with("watch[0].value"));
    }

    #[test]
    fn items_are_numbered_cases_first_then_alerts_watch_notes() {
        let c = Content {
            cases: vec![BriefCase {
                id: 7,
                track: "standard".into(),
                status: "assigned".into(),
                owner: Some("ana".into()),
                customer: "bob".into(),
                channel: "x".into(),
                topic: None,
                sla: "ok".into(),
                first_due: 1,
                next_due: None,
                resolution_due: 2,
                due: 1,
                drill: false,
                kept: false,
            }],
            ..Default::default()
        };
        let w = vec![Watch {
            kind: "topic".into(),
            value: "outage".into(),
            note: String::new(),
        }];
        let items = items_of(&c, &w, "call legal");
        let kinds: Vec<(i64, &str)> = items.iter().map(|i| (i.n, i.kind.as_str())).collect();
        assert_eq!(kinds, vec![(1, "case"), (2, "watch"), (3, "notes")]);
        assert!(items_of(&c, &[], "  ").len() == 1);
    }
}
