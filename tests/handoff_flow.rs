//! Follow-the-sun handoff end to end on SQLite through the one dispatcher: two sites (Austin
//! and Singapore), cases owned by Austin's agents, a brief created, edited, signed and
//! acknowledged (per item and whole), the cases then owned by Singapore's agents with their SLA
//! clocks unchanged, an agent "finishing then away" keeping hers, escalation of an
//! unacknowledged brief along the incoming shift's on-call chain, re-routing when a new owner
//! does not act, a surge move, and every refusal leaving the database untouched.

mod common;

use serde_json::{json, Value};
use sunward::api::{ApiError, App, AppOptions};
use sunward::auth::{Principal, Role};
use sunward::clock::Clock;
use sunward::events::Event;
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

impl T {
    async fn start(at: &str) -> T {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = Clock::manual(ms(at));
        let app = App::start(AppOptions {
            db: Some(common::test_db(dir.path(), "handoff.db").await),
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
    async fn post(&self, id: &str, author: &str, text: &str) {
        let m = Mention {
            source: "test".into(),
            source_id: id.into(),
            channel: "x".into(),
            created_at: self.clock.now_ms() - MIN,
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
    async fn agent(&self, name: &str, role: &str, site: &str, skills: &[&str], presence: &str) {
        self.admin(
            "agents.add",
            json!({ "name": name, "role": role, "site": site, "skills": skills, "capacity": 20, "presence": presence }),
        )
        .await;
    }
    async fn cases(&self) -> Vec<Value> {
        self.admin("cases.list", json!({ "limit": 1000 })).await["cases"]
            .as_array()
            .expect("cases")
            .clone()
    }
    async fn case_of(&self, customer: &str) -> Value {
        self.cases()
            .await
            .into_iter()
            .find(|c| c["customer"] == customer)
            .unwrap_or_else(|| panic!("no case of {customer}"))
    }
    fn advance(&self, minutes: i64) {
        self.clock.set_ms(self.clock.now_ms() + minutes * MIN);
    }
}

/// The SLA clock of a case: every deadline column.
fn clocks(c: &Value) -> Value {
    json!([
        c["first_due"],
        c["next_due"],
        c["resolution_due"],
        c["warn_at"],
        c["opened_at"],
        c["first_response_at"]
    ])
}

fn sites() -> Value {
    json!({"sites": [
        {"name": "austin", "tz": "America/Chicago", "next": "singapore",
         "shift": [{"name": "day", "days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "17:00",
                    "handover": "16:30", "lead": "maria"}]},
        {"name": "singapore", "tz": "Asia/Singapore", "next": "bengaluru",
         "shift": [{"name": "early", "days": ["mon","tue","wed","thu","fri"], "start": "06:00", "end": "15:00",
                    "lead": "wei", "legal": "legal@sg.example", "exec": "vp@sg.example"}]},
        {"name": "bengaluru", "tz": "Asia/Kolkata", "next": "austin",
         "shift": [{"name": "late", "days": ["mon","tue","wed","thu","fri"], "start": "13:00", "end": "22:00"}]},
    ]})
}

fn err_text(r: Result<Value, ApiError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn handoff_moves_cases_keeps_clocks_escalates_and_is_all_or_nothing() {
    // Monday 2026-11-23 22:30 UTC = 16:30 in Austin (handover), 06:30 Tuesday in Singapore
    // (early shift on duty), 04:00 in Bengaluru (nobody on shift).
    let t = T::start("2026-11-23T22:30:00Z").await;
    t.admin("sites.put", sites()).await;

    // Austin's floor takes the cases first; Singapore's agents join afterwards.
    t.agent("maria", "lead", "austin", &[], "away").await;
    t.agent("al", "agent", "austin", &["legal"], "online").await;
    for (i, who) in ["c1", "c2", "c3"].iter().enumerate() {
        t.post(&format!("s{i}"), who, "My suitcase is lost, please help")
            .await;
    }
    t.post("l1", "lawyer1", "I am calling my lawyer about this")
        .await;
    t.agent("fin", "agent", "austin", &[], "online").await;
    t.admin("agents.add", json!({"name": "al", "role": "agent", "site": "austin", "skills": ["legal"], "capacity": 1, "presence": "online"}))
        .await;
    t.post("f1", "c4", "Still waiting for my refund, help")
        .await;
    assert_eq!(t.case_of("c4").await["owner"], "fin");
    t.admin("agents.add", json!({"name": "al", "role": "agent", "site": "austin", "skills": ["legal"], "capacity": 20, "presence": "online"}))
        .await;
    t.admin(
        "agents.presence",
        json!({"name": "fin", "presence": "finishing"}),
    )
    .await;
    // al answers c1 and c2 before the end of the shift (they are "responded").
    for c in ["c1", "c2"] {
        let id = t.case_of(c).await["id"].clone();
        t.as_(
            "al",
            Role::Agent,
            "cases.reply",
            json!({"id": id, "text": "We are on it.", "via": "public"}),
        )
        .await
        .expect("reply");
    }
    let before: Vec<Value> = t.cases().await;
    assert_eq!(before.len(), 5);
    for c in &before {
        assert!(
            ["al", "fin"].contains(&c["owner"].as_str().unwrap_or("")),
            "{c}"
        );
    }

    t.agent("wei", "lead", "singapore", &[], "away").await;
    t.agent("sia", "agent", "singapore", &[], "online").await;
    t.agent("sam", "agent", "singapore", &[], "online").await;

    // Refusals name the field and commit nothing.
    let e = err_text(
        t.as_(
            "maria",
            Role::Lead,
            "handoff.create",
            json!({"from": "austin", "to": "tokyo"}),
        )
        .await,
    );
    assert!(e.contains("to: unknown site `tokyo`"), "{e}");
    let e = err_text(
        t.as_(
            "maria",
            Role::Lead,
            "handoff.create",
            json!({"from": "austin", "to": "bengaluru"}),
        )
        .await,
    );
    assert!(
        e.contains("to: site `bengaluru` has nobody on shift"),
        "{e}"
    );
    let e = err_text(t.as_("maria", Role::Lead, "handoff.create", json!({"from": "austin", "to": "singapore", "watch": [{"kind": "hashtag", "value": "x"}]})).await);
    assert!(e.contains("watch[0].kind"), "{e}");
    let e = err_text(
        t.as_(
            "sia",
            Role::Agent,
            "handoff.create",
            json!({"from": "austin", "to": "singapore"}),
        )
        .await,
    );
    assert!(e.contains("not allowed"), "{e}");
    assert_eq!(
        t.admin("handoff.list", json!({})).await["briefs"],
        json!([])
    );

    // The outgoing lead creates the brief; escalation every 10 minutes.
    let mut events = t.app.subscribe();
    let b = t
        .as_("maria", Role::Lead, "handoff.create", json!({"from": "austin", "to": "singapore",
            "notes": "Outage <b>rumour</b> on #lost-bags", "watch": [{"kind": "topic", "value": "lost-bags"}],
            "escalate_after_minutes": 10}))
        .await
        .expect("create")["brief"]
        .clone();
    let id = b["id"].as_i64().expect("id");
    assert_eq!(b["status"], "draft");
    assert_eq!(b["to_shift"], "early");
    assert_eq!(b["contacts"][0], json!({"role": "lead", "who": "wei"}));
    let listed: Vec<i64> = b["content"]["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["id"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(listed.len(), 5);
    // Breaching soonest first.
    let dues: Vec<i64> = b["content"]["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["due"].as_i64().unwrap_or(0))
        .collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
    loop {
        // Heartbeats and care ticks may come first.
        if let Event::Handoff(n) = events.recv().await.expect("event") {
            assert_eq!((n.id, n.what.as_str()), (id, "created"));
            break;
        }
    }

    // Only a lead of the outgoing site edits and signs; legal and exec read.
    let e = err_text(
        t.as_("wei", Role::Lead, "handoff.sign", json!({"id": id}))
            .await,
    );
    assert!(e.contains("only a lead of `austin`"), "{e}");
    assert!(t
        .as_("lex", Role::Legal, "handoff.show", json!({"id": id}))
        .await
        .is_ok());
    assert!(t
        .as_("vp", Role::Exec, "handoff.list", json!({"pending": true}))
        .await
        .is_ok());
    let e = err_text(
        t.as_("vp", Role::Exec, "handoff.ack", json!({"id": id}))
            .await,
    );
    assert!(e.contains("not allowed"), "{e}");
    t.as_("maria", Role::Lead, "handoff.edit", json!({"id": id, "watch": [{"kind": "topic", "value": "lost-bags"}, {"kind": "author", "value": "lawyer1", "note": "threatens to sue"}]}))
        .await
        .expect("edit");

    // Nobody in Singapore has the legal skill: the legal case cannot be routed, so the whole
    // signature fails and nothing moves.
    let e = err_text(
        t.as_("maria", Role::Lead, "handoff.sign", json!({"id": id}))
            .await,
    );
    assert!(
        e.contains("track `legal`") && e.contains("Nothing was moved"),
        "{e}"
    );
    assert_eq!(t.cases().await, before, "a failed handoff changed cases");
    assert_eq!(
        t.admin("handoff.show", json!({"id": id})).await["brief"]["status"],
        "draft"
    );
    assert_eq!(
        t.admin("handoff.moves", json!({"brief": id})).await["moves"],
        json!([])
    );

    // Singapore gets a legal-skilled agent; the signature moves every case but fin's.
    t.agent("sam", "agent", "singapore", &["legal"], "online")
        .await;
    let r = t
        .as_("maria", Role::Lead, "handoff.sign", json!({"id": id}))
        .await
        .expect("sign");
    let moved = r["transfer"]["moved"].as_array().expect("moved").clone();
    assert_eq!(moved.len(), 4, "{r}");
    assert_eq!(r["transfer"]["kept"], json!([t.case_of("c4").await["id"]]));
    let after = t.cases().await;
    for c in &after {
        let was = before
            .iter()
            .find(|b| b["id"] == c["id"])
            .expect("same case");
        assert_eq!(
            clocks(c),
            clocks(was),
            "SLA clock of case {} changed",
            c["id"]
        );
        if c["customer"] == "c4" {
            assert_eq!(c["owner"], "fin", "finishing agents keep their cases");
        } else {
            assert!(
                ["sia", "sam"].contains(&c["owner"].as_str().unwrap_or("")),
                "{c}"
            );
        }
    }
    assert_eq!(t.case_of("lawyer1").await["owner"], "sam");
    let brief = r["brief"].clone();
    assert_eq!(brief["status"], "signed");
    let items = brief["items"].as_array().expect("items").clone();
    // 5 cases + 2 watch items + notes.
    assert_eq!(items.len(), 8, "{items:?}");

    // Signed: no more edits, no second signature.
    let e = err_text(
        t.as_(
            "maria",
            Role::Lead,
            "handoff.edit",
            json!({"id": id, "notes": "late"}),
        )
        .await,
    );
    assert!(e.starts_with("id: brief") || e.contains("id: brief"), "{e}");
    assert!(e.contains("can no longer be edited"), "{e}");
    let e = err_text(
        t.as_("maria", Role::Lead, "handoff.sign", json!({"id": id}))
            .await,
    );
    assert!(e.contains("already signed"), "{e}");

    // The incoming lead acknowledges item 1; the brief stays pending.
    let b = t
        .as_(
            "wei",
            Role::Lead,
            "handoff.ack",
            json!({"id": id, "item": 1}),
        )
        .await
        .expect("ack 1")["brief"]
        .clone();
    assert_eq!(b["status"], "signed");
    assert_eq!(b["items"][0]["acked_by"], "wei");
    let e = err_text(
        t.as_(
            "wei",
            Role::Lead,
            "handoff.ack",
            json!({"id": id, "item": 1}),
        )
        .await,
    );
    assert!(
        e.contains("item: item 1") && e.contains("already acknowledged"),
        "{e}"
    );
    let e = err_text(
        t.as_(
            "wei",
            Role::Lead,
            "handoff.ack",
            json!({"id": id, "item": 99}),
        )
        .await,
    );
    assert!(e.contains("item: brief") && e.contains("1 to 8"), "{e}");
    let pending = t.admin("handoff.list", json!({"pending": true})).await;
    assert_eq!(pending["briefs"].as_array().map(Vec::len), Some(1));

    // A new owner who acts keeps the case (checked when the track's limit is up, below).
    let c1 = t.case_of("c1").await;
    let owner1 = c1["owner"].as_str().unwrap_or("").to_string();
    t.as_(
        &owner1,
        Role::Agent,
        "cases.note",
        json!({"id": c1["id"], "text": "Called the airport."}),
    )
    .await
    .expect("note");

    // Unacknowledged: after 10 minutes the first step calls the incoming lead, after 20 legal.
    // (The serving app's own ticker may take a step first; the brief and the events tell.)
    let step = |v: Value| v["brief"]["escalation_step"].as_i64().unwrap_or(-1);
    let mut events = t.app.subscribe();
    t.advance(9);
    t.admin("handoff.tick", json!({})).await;
    assert_eq!(step(t.admin("handoff.show", json!({"id": id})).await), 0);
    t.advance(2);
    t.admin("handoff.tick", json!({})).await;
    t.admin("handoff.tick", json!({})).await;
    assert_eq!(
        step(t.admin("handoff.show", json!({"id": id})).await),
        1,
        "a step is taken once"
    );
    t.advance(10);
    t.admin("handoff.tick", json!({})).await;
    assert_eq!(step(t.admin("handoff.show", json!({"id": id})).await), 2);
    let mut calls = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let Event::Handoff(n) = ev {
            if n.what == "escalated" {
                calls.push((
                    n.step,
                    n.notify.unwrap_or_default(),
                    n.role.unwrap_or_default(),
                ));
            }
        }
    }
    assert_eq!(
        calls,
        vec![
            (1, "wei".to_string(), "lead".to_string()),
            (2, "legal@sg.example".to_string(), "legal".to_string())
        ]
    );
    assert_eq!(
        t.admin("handoff.show", json!({"id": id})).await["brief"]["status"],
        "escalated"
    );

    // The whole brief: acknowledged, escalation stops.
    let b = t
        .as_("wei", Role::Lead, "handoff.ack", json!({"id": id}))
        .await
        .expect("ack all")["brief"]
        .clone();
    assert_eq!(b["status"], "acknowledged");
    assert!(b["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|i| !i["acked_by"].is_null()));
    let c2_before = t.case_of("c2").await;
    t.advance(30);
    assert_eq!(
        t.admin("handoff.tick", json!({})).await["escalated"],
        json!([])
    );
    assert_eq!(step(t.admin("handoff.show", json!({"id": id})).await), 2);
    assert_eq!(
        t.admin("handoff.list", json!({"pending": true})).await["briefs"],
        json!([])
    );

    // New owners must act within the track's limit (standard: 30 min, now 51 min later):
    // c1's owner wrote a note (acted); c2's owner did nothing, so c2 re-routes within Singapore.
    let c2 = t.case_of("c2").await;
    assert_ne!(c2["owner"], c2_before["owner"], "silent new owner keeps c2");
    assert!(
        ["sia", "sam"].contains(&c2["owner"].as_str().unwrap_or("")),
        "{c2}"
    );
    assert_eq!(clocks(&c2), clocks(&c2_before));
    assert_eq!(t.case_of("c1").await["owner"], owner1.as_str());
    let moves = t.admin("handoff.moves", json!({"case": c1["id"]})).await;
    assert_eq!(moves["moves"][0]["outcome"], "acted", "{moves}");

    // Surge: Singapore lends sia to Austin, and Austin's lead pulls one case back.
    let e = err_text(
        t.as_(
            "wei",
            Role::Lead,
            "handoff.move",
            json!({"from": "singapore", "to": "austin", "agents": ["nobody"]}),
        )
        .await,
    );
    assert!(e.contains("agents: `nobody`"), "{e}");
    let r = t
        .as_(
            "wei",
            Role::Lead,
            "handoff.move",
            json!({"from": "singapore", "to": "austin", "agents": ["sia"]}),
        )
        .await
        .expect("surge agents");
    assert_eq!(r["transfer"]["moved"], json!([]));
    let agents = t.admin("agents.list", json!({})).await;
    let sia = agents["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["name"] == "sia")
        .expect("sia")
        .clone();
    assert_eq!(sia["site"], "austin");

    // ...and Austin pulls back one of Singapore's cases (soonest breach first), routed to an
    // Austin agent, clock unchanged; asking for a case Singapore does not hold changes nothing.
    let held_by_sam: Vec<Value> = t
        .cases()
        .await
        .into_iter()
        .filter(|c| c["owner"] == "sam")
        .collect();
    assert!(!held_by_sam.is_empty());
    let e = err_text(
        t.as_(
            "maria",
            Role::Lead,
            "handoff.move",
            json!({"from": "singapore", "to": "austin", "ids": [9999]}),
        )
        .await,
    );
    assert!(
        e.contains("ids: case 9999 is not an open case held by site `singapore`"),
        "{e}"
    );
    let r = t
        .as_(
            "maria",
            Role::Lead,
            "handoff.move",
            json!({"from": "singapore", "to": "austin", "cases": 1}),
        )
        .await
        .expect("surge cases");
    let moved = r["transfer"]["moved"].as_array().expect("moved").clone();
    assert_eq!(moved.len(), 1, "{r}");
    let id = moved[0]["case_id"].clone();
    let now_case = t
        .cases()
        .await
        .into_iter()
        .find(|c| c["id"] == id)
        .expect("case");
    assert!(
        ["al", "sia"].contains(&now_case["owner"].as_str().unwrap_or("")),
        "{now_case}"
    );
    let was = held_by_sam
        .iter()
        .find(|c| c["id"] == id)
        .expect("was sam's");
    assert_eq!(clocks(&now_case), clocks(was));
}

#[tokio::test]
async fn a_handoff_to_a_site_without_agents_or_to_itself_is_refused() {
    let t = T::start("2026-11-23T22:30:00Z").await;
    t.admin("sites.put", sites()).await;
    t.agent("maria", "lead", "austin", &[], "online").await;
    let e = err_text(
        t.as_(
            "maria",
            Role::Lead,
            "handoff.create",
            json!({"from": "austin", "to": "singapore"}),
        )
        .await,
    );
    assert!(e.contains("to: site `singapore` has no agents"), "{e}");
    let e = err_text(
        t.as_(
            "maria",
            Role::Lead,
            "handoff.create",
            json!({"from": "austin", "to": "austin"}),
        )
        .await,
    );
    assert!(e.contains("to: a site cannot hand off to itself"), "{e}");
    let e = err_text(
        t.as_(
            "maria",
            Role::Lead,
            "handoff.create",
            json!({"from": "paris", "to": "austin"}),
        )
        .await,
    );
    assert!(e.contains("from: unknown site `paris`"), "{e}");
    let e = err_text(t.app.dispatch("handoff.ack", json!({"id": 42})).await);
    assert!(e.contains("id: no handoff brief 42"), "{e}");

    // Singapore's only agent is away. With nothing to move, the handoff goes through (a quiet
    // shift needs nobody online); with a case to move it is refused and the case stays.
    t.agent("sia", "agent", "singapore", &[], "away").await;
    let quiet = t
        .as_(
            "maria",
            Role::Lead,
            "handoff.create",
            json!({"from": "austin", "to": "singapore"}),
        )
        .await
        .expect("create")["brief"]["id"]
        .clone();
    let r = t
        .as_("maria", Role::Lead, "handoff.sign", json!({"id": quiet}))
        .await
        .expect("an empty handoff signs");
    assert_eq!(r["transfer"]["moved"], json!([]));
    t.agent("al", "agent", "austin", &[], "online").await;
    t.post("q1", "c9", "My suitcase is lost, please help").await;
    assert_eq!(t.case_of("c9").await["owner"], "al");
    let busy = t
        .as_(
            "maria",
            Role::Lead,
            "handoff.create",
            json!({"from": "austin", "to": "singapore"}),
        )
        .await
        .expect("create")["brief"]["id"]
        .clone();
    let e = err_text(
        t.as_("maria", Role::Lead, "handoff.sign", json!({"id": busy}))
            .await,
    );
    assert!(
        e.contains("to: nobody at site `singapore` is online") && e.contains("sia away"),
        "{e}"
    );
    assert_eq!(t.case_of("c9").await["owner"], "al");
    assert_eq!(
        t.admin("handoff.show", json!({"id": busy})).await["brief"]["status"],
        "draft"
    );
}

#[tokio::test]
async fn the_brief_is_drafted_at_handover_time_once() {
    // Monday 16:00 in Austin: the day shift's handover (16:30) has not come yet.
    let t = T::start("2026-11-23T22:00:00Z").await;
    t.admin("sites.put", sites()).await;
    t.agent("maria", "lead", "austin", &[], "away").await;
    t.agent("al", "agent", "austin", &[], "online").await;
    t.agent("sia", "agent", "singapore", &[], "online").await;
    t.post("d1", "cust", "My suitcase is lost, please help")
        .await;

    let r = t.admin("handoff.tick", json!({})).await;
    assert_eq!(r["drafted"], json!([]), "{r}");
    assert_eq!(
        t.admin("handoff.list", json!({})).await["briefs"],
        json!([])
    );

    // 16:30: handover time. One draft, from Austin to its next site, for the lead to sign.
    t.advance(30);
    let r = t.admin("handoff.tick", json!({})).await;
    assert_eq!(r["drafted"].as_array().map(Vec::len), Some(1), "{r}");
    let briefs = t.admin("handoff.list", json!({})).await["briefs"].clone();
    let b = &briefs[0];
    assert_eq!(b["from_site"], "austin");
    assert_eq!(b["to_site"], "singapore");
    assert_eq!(b["status"], "draft");
    assert_eq!(b["created_by"], "sunward");
    assert_eq!(
        b["content"]["cases"].as_array().map(Vec::len),
        Some(1),
        "{b}"
    );

    // Later ticks in the same shift draft nothing more.
    t.advance(5);
    let r = t.admin("handoff.tick", json!({})).await;
    assert_eq!(r["drafted"], json!([]), "{r}");
    assert_eq!(
        t.admin("handoff.list", json!({})).await["briefs"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
