//! The care workflow end to end through the one dispatcher: triage of ingested mentions,
//! routing (skills, capacity, presence, re-route on silence), SLA clocks in business hours
//! across a weekend and a holiday, approvals, the audit log, and the role matrix.

mod common;

use serde_json::{json, Value};
use sunward::api::{ApiError, App, AppOptions};
use sunward::auth::{role_has, Access, Principal, Role};
use sunward::clock::Clock;
use sunward::model::{Author, Mention};

const MIN: i64 = 60_000;

fn ms(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("test time")
        .timestamp_millis()
}

struct T {
    app: App,
    clock: Clock,
    _dir: tempfile::TempDir,
}

async fn start(at: &str) -> T {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Clock::manual(ms(at));
    let app = App::start(AppOptions {
        db: Some(common::test_db(dir.path(), "care.db").await),
        clock: Some(clock.clone()),
        ..AppOptions::default()
    })
    .await
    .expect("app");
    T {
        app,
        clock,
        _dir: dir,
    }
}

impl T {
    async fn admin(&self, cmd: &str, args: Value) -> Value {
        self.app
            .dispatch(cmd, args)
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }
    async fn as_(&self, name: &str, role: Role, cmd: &str, args: Value) -> Result<Value, ApiError> {
        self.app
            .dispatch_as(&Principal::new(name, role), cmd, args)
            .await
    }
    async fn post(&self, id: &str, author: &str, text: &str, at: i64) {
        let m = Mention {
            source: "test".into(),
            source_id: id.into(),
            channel: "x".into(),
            created_at: at,
            text: text.into(),
            author: Author {
                handle: Some(author.into()),
                ..Author::default()
            },
            ..Mention::default()
        };
        let r = self
            .app
            .ingestor()
            .ingest_mentions("test", vec![m])
            .await
            .expect("ingest");
        assert_eq!(r.stored, 1);
    }
    async fn case_of(&self, customer: &str) -> Value {
        let all = self.admin("cases.list", json!({ "limit": 1000 })).await;
        all["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .find(|c| c["customer"] == customer)
            .cloned()
            .unwrap_or_else(|| panic!("no case of {customer}: {all}"))
    }
    async fn agent(&self, name: &str, role: &str, skills: &[&str], cap: i64, presence: &str) {
        self.admin(
            "agents.add",
            json!({ "name": name, "role": role, "skills": skills, "capacity": cap, "presence": presence }),
        )
        .await;
    }
}

#[tokio::test]
async fn routing_by_skills_capacity_presence_and_reroute_on_silence() {
    // Wednesday 10:00 Lisbon: the default playbook's site is open.
    let t = start("2026-11-18T10:00:00Z").await;
    let now = t.clock.now_ms();
    t.agent("ana", "agent", &[], 2, "online").await;
    t.agent("bo", "agent", &["legal"], 1, "online").await;
    t.agent("cy", "agent", &["legal"], 3, "away").await;

    // Standard track, no skills: the agent with most free capacity (ana 2 > bo 1).
    t.post("1", "c1", "Where is my suitcase? please help", now - MIN)
        .await;
    let c1 = t.case_of("c1").await;
    assert_eq!(c1["track"], "standard");
    assert_eq!(c1["owner"], "ana", "{c1}");
    assert_eq!(c1["status"], "assigned");

    // Legal track needs the legal skill: bo (cy is away).
    t.post("2", "c2", "I am calling my lawyer about this", now - MIN)
        .await;
    let c2 = t.case_of("c2").await;
    assert_eq!(c2["track"], "legal");
    assert_eq!(c2["owner"], "bo", "{c2}");

    // bo is full and cy away: queued, with the reason.
    t.post("3", "c3", "My attorney will hear about this", now - MIN)
        .await;
    let c3 = t.case_of("c3").await;
    assert!(c3["owner"].is_null(), "{c3}");
    let reason = c3["queue_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("at capacity"), "{reason}");

    // cy comes online: the queue drains to her.
    t.as_(
        "cy",
        Role::Agent,
        "agents.presence",
        json!({ "presence": "online" }),
    )
    .await
    .expect("presence");
    assert_eq!(t.case_of("c3").await["owner"], "cy");

    // Over capacity and unknown agents: a clear error, nothing moved.
    let e = t
        .as_(
            "lead1",
            Role::Lead,
            "cases.assign",
            json!({ "ids": [c1["id"], c2["id"]], "agent": "bo" }),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ApiError::Conflict(ref m) if m.contains("capacity")),
        "{e}"
    );
    assert_eq!(t.case_of("c1").await["owner"], "ana");
    let e = t
        .as_(
            "lead1",
            Role::Lead,
            "cases.assign",
            json!({ "id": c1["id"], "agent": "nobody" }),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::NotFound(_)), "{e}");

    // Collision guard: another agent cannot take ana's case.
    let e = t
        .as_("bo", Role::Agent, "cases.claim", json!({ "id": c1["id"] }))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ApiError::Conflict(ref m) if m.contains("ana")),
        "{e}"
    );

    // ana stays silent past the standard track's 30 minutes: the case moves to someone free
    // and qualified (dan, who just came online), and the log says so.
    t.agent("dan", "agent", &[], 4, "online").await;
    t.clock.set_ms(now + 31 * MIN);
    t.admin("cases.tick", json!({})).await;
    let c1 = t.case_of("c1").await;
    assert_eq!(c1["owner"], "dan", "{c1}");
    let log = t.admin("audit.list", json!({ "case": c1["id"] })).await;
    let reroute = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "reroute")
        .unwrap_or_else(|| panic!("no reroute in {log}"));
    assert_eq!(reroute["detail"]["from"], "ana");
    assert_eq!(reroute["detail"]["to"], "dan");

    // Finishing then away: no new cases, and away once the last one is done.
    t.as_(
        "dan",
        Role::Agent,
        "agents.presence",
        json!({ "presence": "finishing" }),
    )
    .await
    .expect("presence");
    t.post("4", "c4", "Is anyone there? help", t.clock.now_ms())
        .await;
    assert_ne!(t.case_of("c4").await["owner"], "dan");
    t.as_(
        "dan",
        Role::Agent,
        "cases.resolve",
        json!({ "id": c1["id"] }),
    )
    .await
    .expect("resolve");
    t.admin("cases.tick", json!({})).await;
    let agents = t.admin("agents.list", json!({})).await;
    let dan = agents["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["name"] == "dan")
        .cloned()
        .expect("dan");
    assert_eq!(dan["presence"], "away");

    // The agent-load view shows it all.
    let load = t.admin("view.agent_load", json!({})).await;
    assert_eq!(load["agents"].as_array().map(Vec::len), Some(4));
    assert!(load["open"].as_u64().unwrap_or(0) >= 3, "{load}");
}

const BUSINESS_WEEK: &str = r#"
[[site]]
name = "porto"
tz = "Europe/Lisbon"
hours = { mon = "09:00-17:00", tue = "09:00-17:00", wed = "09:00-17:00", thu = "09:00-17:00", fri = "09:00-17:00" }
holidays = ["2027-01-01"]

[[track]]
name = "standard"
site = "porto"
first_response_minutes = 60
resolution_minutes = 480
warn_before_minutes = 15

[[rule]]
name = "everything"
then = "open"
track = "standard"
"#;

#[tokio::test]
async fn sla_runs_in_business_hours_across_a_holiday_and_a_weekend() {
    // Thursday 2026-12-31 16:30 in Lisbon (UTC+0 in winter).
    let t = start("2026-12-31T16:30:00Z").await;
    let r = t
        .admin("playbook.set", json!({ "text": BUSINESS_WEEK }))
        .await;
    assert_eq!(r["version"], 2, "{r}");
    t.post("1", "cust", "hello", t.clock.now_ms()).await;
    let c = t.case_of("cust").await;
    // 30 minutes on Thursday; Friday is New Year's Day; then the weekend: Monday 09:30.
    assert_eq!(c["first_due"], ms("2027-01-04T09:30:00Z"), "{c}");
    // Resolution: 8 business hours = 30 min Thu + 7.5 h Monday = Monday 16:30.
    assert_eq!(c["resolution_due"], ms("2027-01-04T16:30:00Z"));
    assert_eq!(c["sla"], "ok");

    // Saturday is not late; Monday 09:20 is a pre-breach warning; 09:31 is a breach.
    t.clock.set_ms(ms("2027-01-02T12:00:00Z"));
    assert_eq!(t.case_of("cust").await["sla"], "ok");
    t.clock.set_ms(ms("2027-01-04T09:20:00Z"));
    assert_eq!(t.case_of("cust").await["sla"], "warning");
    let tick = t.admin("cases.tick", json!({})).await;
    assert_eq!(tick["warned"], 1, "{tick}");
    t.clock.set_ms(ms("2027-01-04T09:31:00Z"));
    assert_eq!(t.case_of("cust").await["sla"], "breached");

    // A reply now misses the SLA; the KPI counts it.
    t.agent("ana", "agent", &[], 5, "online").await;
    t.as_(
        "ana",
        Role::Agent,
        "cases.reply",
        json!({ "id": c["id"], "text": "Sorry for the wait, we're on it." }),
    )
    .await
    .expect("reply");
    let c = t.case_of("cust").await;
    assert_eq!(c["sla"], "missed");
    assert_eq!(c["status"], "responded");
    let k = t.admin("kpi.report", json!({ "from": 0 })).await;
    assert_eq!(k["total"]["sla_met_pct"], 0.0, "{k}");
    assert_eq!(k["total"]["responded"], 1);
}

#[tokio::test]
async fn approvals_refuse_self_approval_and_need_a_second_approver() {
    let t = start("2026-11-18T10:00:00Z").await;
    let now = t.clock.now_ms();
    t.agent("ana", "agent", &[], 5, "online").await;
    t.agent("lex", "agent", &["legal"], 5, "online").await;

    // A legal case: lex (legal skill) owns it; his reply waits for a legal approver.
    t.post("1", "angry", "You will hear from my lawyer", now)
        .await;
    let c = t.case_of("angry").await;
    assert_eq!(c["owner"], "lex");
    let r = t
        .as_(
            "lex",
            Role::Agent,
            "cases.reply",
            json!({ "id": c["id"], "text": "Please DM us.", "via": "dm" }),
        )
        .await
        .expect("reply");
    assert_eq!(r["status"], "pending");
    // An agent may not approve at all; an exec may not approve legal replies.
    assert!(matches!(
        t.as_(
            "lex",
            Role::Agent,
            "cases.approve",
            json!({ "reply": r["id"] })
        )
        .await,
        Err(ApiError::Forbidden(_))
    ));
    let e = t
        .as_(
            "eve",
            Role::Exec,
            "cases.approve",
            json!({ "reply": r["id"] }),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ApiError::Forbidden(ref m) if m.contains("legal")),
        "{e}"
    );
    // A public reply on a track that moves off the public channel is refused.
    let e = t
        .as_(
            "lex",
            Role::Agent,
            "cases.reply",
            json!({ "id": c["id"], "text": "x", "via": "public" }),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ApiError::BadArgs(ref m) if m.contains("off the public")),
        "{e}"
    );
    // A legal reviewer edits and approves: sent, the case has its first response.
    let r2 = t
        .as_(
            "lena",
            Role::Legal,
            "cases.approve",
            json!({ "reply": r["id"], "decision": "edit", "text": "Please send us a DM." }),
        )
        .await
        .expect("approve");
    assert_eq!(r2["status"], "sent");
    assert_eq!(r2["text"], "Please send us a DM.");
    assert_eq!(t.case_of("angry").await["status"], "responded");

    // A goodwill grant above the second-approval limit needs two different approvers, and
    // nobody approves their own reply (a lead writing on ana's case).
    t.post("2", "fan", "Where is my bag? help", now).await;
    let c = t.case_of("fan").await;
    assert_eq!(c["owner"], "ana");
    let r = t
        .as_(
            "lou",
            Role::Lead,
            "cases.reply",
            json!({ "id": c["id"], "text": "Here is a voucher.", "grant": 300 }),
        )
        .await
        .expect("reply");
    assert_eq!(
        (r["status"].as_str(), r["needed"].as_i64()),
        (Some("pending"), Some(2))
    );
    let e = t
        .as_(
            "lou",
            Role::Lead,
            "cases.approve",
            json!({ "reply": r["id"] }),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ApiError::Forbidden(ref m) if m.contains("own reply")),
        "{e}"
    );
    let r1 = t
        .as_(
            "lia",
            Role::Lead,
            "cases.approve",
            json!({ "reply": r["id"] }),
        )
        .await
        .expect("first approval");
    assert_eq!(r1["status"], "pending");
    let e = t
        .as_(
            "lia",
            Role::Lead,
            "cases.approve",
            json!({ "reply": r["id"] }),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ApiError::Conflict(ref m) if m.contains("different")),
        "{e}"
    );
    let r2 = t
        .as_(
            "eve",
            Role::Exec,
            "cases.approve",
            json!({ "reply": r["id"] }),
        )
        .await
        .expect("second approval");
    assert_eq!(r2["status"], "sent");

    // A small grant to a customer linked to the agent is flagged and needs two approvers.
    t.admin(
        "agents.link",
        json!({ "agent": "ana", "customer": "@buddy" }),
    )
    .await;
    t.post("3", "buddy", "Lost my bag? help", now).await;
    let c = t.case_of("buddy").await;
    let r = t
        .as_(
            "ana",
            Role::Agent,
            "cases.reply",
            json!({ "id": c["id"], "text": "Voucher for you.", "grant": 20 }),
        )
        .await
        .expect("reply");
    assert_eq!(r["needed"], 2);
    assert!(
        r["flags"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("agent_customer_linked"))),
        "{r}"
    );
    // Rejection needs a reason.
    assert!(matches!(
        t.as_(
            "lou",
            Role::Lead,
            "cases.approve",
            json!({ "reply": r["id"], "decision": "reject" })
        )
        .await,
        Err(ApiError::BadArgs(_))
    ));
    let r = t
        .as_(
            "lou",
            Role::Lead,
            "cases.approve",
            json!({ "reply": r["id"], "decision": "reject", "reason": "linked customer" }),
        )
        .await
        .expect("reject");
    assert_eq!(r["status"], "rejected");

    // The audit log has the grant, approvals, rejection, routing; and it is append-only.
    let log = t.admin("audit.list", json!({})).await;
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "route",
        "grant",
        "approve",
        "approve_edited",
        "reject",
        "reply_for_approval",
        "agent",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let csv = t.admin("audit.export", json!({ "format": "csv" })).await;
    assert!(csv["csv"]
        .as_str()
        .is_some_and(|c| c.starts_with("id,at,actor,action")));
}

#[tokio::test]
async fn bad_playbooks_are_rejected_with_lines_and_the_old_one_stays() {
    let t = start("2026-11-18T10:00:00Z").await;
    let before = t.admin("playbook.get", json!({})).await;
    for (text, line, what) in [
        ("[[track]]\nname = \"a\"\nfirst_response_minutes = = 1\n", 3, "expected"),
        ("[[track]]\nname = \"a\"\nsla = 5\n", 3, "unknown field"),
        ("[[track]]\nname = \"a\"\nresolution_minutes = 5\n", 1, "no SLA"),
        (
            "[[track]]\nname = \"a\"\nfirst_response_minutes = 5\nresolution_minutes = 9\n\n[[rule]]\nname = \"all\"\nthen = \"watch\"\n\n[[rule]]\nname = \"late\"\nif = { keywords = [\"x\"] }\nthen = \"open\"\ntrack = \"a\"\n",
            10,
            "unreachable",
        ),
    ] {
        let e = t.app.dispatch("playbook.set", json!({ "text": text })).await.unwrap_err();
        let m = e.to_string();
        assert!(m.contains(&format!("line {line}:")) && m.contains(what), "{m}");
        let c = t.admin("playbook.check", json!({ "text": text })).await;
        assert_eq!(c["ok"], false);
        assert_eq!(c["problems"][0]["line"], line, "{c}");
    }
    assert_eq!(t.admin("playbook.get", json!({})).await, before);
    assert_eq!(
        t.admin("playbook.history", json!({})).await["versions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn drill_mentions_open_drill_cases_that_never_count() {
    let t = start("2026-11-18T10:00:00Z").await;
    t.agent("ana", "agent", &[], 5, "online").await;
    let m = Mention {
        source: "drill-storm".into(),
        source_id: "d1".into(),
        channel: "x".into(),
        created_at: t.clock.now_ms(),
        text: "Is my flight cancelled? help".into(),
        author: Author {
            handle: Some("drillbot".into()),
            ..Author::default()
        },
        ..Mention::default()
    };
    t.app
        .ingestor()
        .ingest_mentions("drill", vec![m])
        .await
        .expect("ingest");
    let c = t.case_of("drillbot").await;
    assert_eq!(c["drill"], true);
    let since = t.clock.now_ms();
    t.as_(
        "ana",
        Role::Agent,
        "cases.reply",
        json!({ "id": c["id"], "text": "We're on it." }),
    )
    .await
    .expect("reply");
    let at = sunward::care::first_approved_response_after(t.app.store(), "drill", since)
        .await
        .expect("drill hook");
    assert_eq!(at, Some(since));
    let k = t.admin("kpi.report", json!({ "from": 0 })).await;
    assert_eq!(k["total"]["opened"], 0, "{k}");
    assert_eq!(k["backlog"], 0);
}

/// Who may run what: the expected class of every care command, written out here rather than
/// read from src/auth.rs, then every role runs every command.
#[tokio::test]
async fn role_matrix_every_role_times_every_action() {
    let t = start("2026-11-18T10:00:00Z").await;
    let expected: &[(&str, Access)] = &[
        ("cases.list", Access::Read),
        ("cases.show", Access::Read),
        ("cases.pending", Access::Read),
        ("cases.claim", Access::Work),
        ("cases.reply", Access::Work),
        ("cases.note", Access::Work),
        ("cases.tag", Access::Work),
        ("cases.wait", Access::Work),
        ("cases.resolve", Access::Work),
        ("cases.close", Access::Work),
        ("cases.assign", Access::Lead),
        ("cases.approve", Access::Approve),
        ("cases.tick", Access::Lead),
        ("agents.list", Access::Read),
        ("agents.add", Access::Admin),
        ("agents.presence", Access::Work),
        ("agents.link", Access::Admin),
        ("playbook.get", Access::Read),
        ("playbook.check", Access::Read),
        ("playbook.set", Access::Admin),
        ("playbook.history", Access::Read),
        ("kpi.report", Access::Read),
        ("kpi.export", Access::Read),
        ("audit.list", Access::Read),
        ("audit.export", Access::Read),
        ("view.agent_load", Access::WallRead),
    ];
    let listed: Vec<&str> = expected.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        listed,
        sunward::care::api::COMMANDS.to_vec(),
        "a care command without an expected role"
    );
    // Arguments that pass parsing but touch nothing (unknown ids), so an allowed call fails
    // with NotFound/BadArgs/Conflict, never Forbidden.
    let args = |c: &str| match c {
        "cases.show" | "cases.claim" | "cases.wait" | "cases.resolve" | "cases.close" => {
            json!({ "id": 999 })
        }
        "cases.reply" | "cases.note" => json!({ "id": 999, "text": "x" }),
        "cases.tag" => json!({ "id": 999, "add": ["x"] }),
        "cases.assign" => json!({ "id": 999, "agent": "nobody" }),
        "cases.approve" => json!({ "reply": 999 }),
        "agents.add" => json!({ "name": "", "role": "agent" }),
        "agents.presence" => json!({ "presence": "online" }),
        "agents.link" => json!({ "agent": "nobody", "customer": "x" }),
        "playbook.check" | "playbook.set" => json!({ "text": "bad = [" }),
        _ => json!({}),
    };
    let mut checked = 0;
    for role in Role::ALL {
        for (cmd, access) in expected {
            let r = t.as_(&format!("{role}-user"), role, cmd, args(cmd)).await;
            let forbidden = matches!(r, Err(ApiError::Forbidden(_)));
            assert_eq!(
                forbidden,
                !role_has(role, *access),
                "{role} running {cmd}: {r:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * expected.len());
}
