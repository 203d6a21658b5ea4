//! The care commands, shared by HTTP, Tauri IPC ([`dispatch`]) and the CLI ([`run_as`]).
//! Every command checks the caller's role (src/auth.rs `access_of`) before it runs.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::kpi::{self, By};
use super::{current_playbook, playbook, publish, tick, Agent, PRESENCES};
use crate::api::{ApiError, App};
use crate::auth::{Principal, Role};
use crate::events::Bus;
use crate::store::{CaseChange, CaseFilter, Decision, NewReply, Store};

/// Every care command; the role-matrix test runs each one as each role.
pub const COMMANDS: [&str; 26] = [
    "cases.list",
    "cases.show",
    "cases.pending",
    "cases.claim",
    "cases.reply",
    "cases.note",
    "cases.tag",
    "cases.wait",
    "cases.resolve",
    "cases.close",
    "cases.assign",
    "cases.approve",
    "cases.tick",
    "agents.list",
    "agents.add",
    "agents.presence",
    "agents.link",
    "playbook.get",
    "playbook.check",
    "playbook.set",
    "playbook.history",
    "kpi.report",
    "kpi.export",
    "audit.list",
    "audit.export",
    "view.agent_load",
];

/// What a care command needs: the store, "now" and (when serving) the event bus.
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub now: i64,
    pub bus: Option<&'a Bus>,
}

/// The API dispatcher's hook: `None` when `command` is not a care command.
pub async fn dispatch(
    app: &App,
    who: &Principal,
    command: &str,
    args: Value,
) -> Option<Result<Value, ApiError>> {
    if !COMMANDS.contains(&command) {
        return None;
    }
    let ctx = Ctx {
        store: app.store(),
        now: app.clock().now_ms(),
        bus: Some(app.bus()),
    };
    Some(run(&ctx, who, command, args).await)
}

/// Runs a care command after checking `who`'s role (the CLI's entry; the API checks roles in
/// `App::dispatch_as` before it calls [`dispatch`]).
pub async fn run_as(
    ctx: &Ctx<'_>,
    who: &Principal,
    command: &str,
    args: Value,
) -> Result<Value, ApiError> {
    if !crate::auth::allowed(who.role, command) {
        return Err(ApiError::Forbidden(format!(
            "`{command}` is not allowed for the {} role of `{}`",
            who.role, who.name
        )));
    }
    run(ctx, who, command, args).await
}

fn parse<T: DeserializeOwned + Default>(args: Value) -> Result<T, ApiError> {
    if args.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(args).map_err(|e| ApiError::BadArgs(e.to_string()))
}

fn text_arg(name: &str, v: &str) -> Result<String, ApiError> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > 10_000 {
        return Err(ApiError::BadArgs(format!(
            "`{name}` must be 1 to 10000 characters"
        )));
    }
    Ok(t.to_string())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    status: Option<String>,
    owner: Option<String>,
    #[serde(default)]
    queue: bool,
    #[serde(default)]
    open: bool,
    limit: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IdArgs {
    id: i64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReplyArgs {
    id: i64,
    text: String,
    /// public, dm or email; default: dm on tracks that move off the public channel.
    via: Option<String>,
    /// Goodwill/compensation granted with this reply (currency units).
    grant: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NoteArgs {
    id: i64,
    text: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TagArgs {
    id: i64,
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AssignArgs {
    id: Option<i64>,
    #[serde(default)]
    ids: Vec<i64>,
    agent: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ApproveArgs {
    reply: i64,
    /// approve, edit or reject
    decision: Option<String>,
    text: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AgentArgs {
    name: String,
    role: Option<String>,
    #[serde(default)]
    skills: Vec<String>,
    capacity: Option<i64>,
    presence: Option<String>,
    site: Option<String>,
    #[serde(default)]
    links: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PresenceArgs {
    name: Option<String>,
    presence: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LinkArgs {
    agent: String,
    customer: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TextArgs {
    text: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KpiArgs {
    from: Option<i64>,
    to: Option<i64>,
    by: Option<String>,
    /// `kpi.export` only: an SVG chart of this measure instead of CSV (see [`kpi::CHARTS`]).
    chart: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AuditArgs {
    case: Option<i64>,
    since: Option<i64>,
    limit: Option<i64>,
    /// audit.export: json (default) or csv
    format: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

async fn run(
    ctx: &Ctx<'_>,
    who: &Principal,
    command: &str,
    args: Value,
) -> Result<Value, ApiError> {
    let (store, now) = (ctx.store, ctx.now);
    let changed = |what: &str, ids: Vec<i64>| publish(ctx.bus, what, ids);
    match command {
        "cases.list" => {
            let a: ListArgs = parse(args)?;
            if let Some(s) = &a.status {
                if !super::STATUSES.contains(&s.as_str()) {
                    return Err(ApiError::BadArgs(format!(
                        "unknown status `{s}`; use one of {}",
                        super::STATUSES.join(", ")
                    )));
                }
            }
            let f = CaseFilter {
                status: a.status,
                owner: a.owner,
                queue: a.queue,
                open: a.open,
                limit: a.limit.unwrap_or(100),
            };
            Ok(json!({ "cases": store.care_cases(&f, now).await? }))
        }
        "cases.show" => {
            let a: IdArgs = parse(args)?;
            let mut d = store.care_case_detail(a.id, now).await?;
            // What the reply box needs: the track's empathy-first template and its rules.
            let (_, pb) = current_playbook(store, now).await?;
            if let Some(t) = pb.track(d["case"]["track"].as_str().unwrap_or_default()) {
                d["track"] = json!({
                    "template": t.template, "private_reply": t.private_reply,
                    "needs_approval": t.needs_approval, "approver_roles": t.approver_roles,
                });
            }
            Ok(d)
        }
        "cases.pending" => {
            parse::<NoArgs>(args)?;
            Ok(json!({ "replies": store.care_pending_replies().await? }))
        }
        "cases.claim" => {
            let a: IdArgs = parse(args)?;
            store.care_claim(who, a.id, now).await?;
            changed("claim", vec![a.id]);
            Ok(json!({ "case": a.id, "owner": who.name }))
        }
        "cases.reply" => {
            let a: ReplyArgs = parse(args)?;
            let text = text_arg("text", &a.text)?;
            let (_, pb) = current_playbook(store, now).await?;
            let case = store.care_case_detail(a.id, now).await?;
            let private = pb
                .track(case["case"]["track"].as_str().unwrap_or_default())
                .is_some_and(|t| t.private_reply);
            let via = a
                .via
                .unwrap_or_else(|| if private { "dm" } else { "public" }.to_string());
            if !["public", "dm", "email"].contains(&via.as_str()) {
                return Err(ApiError::BadArgs(format!(
                    "via `{via}`: use public, dm or email"
                )));
            }
            let grant = a.grant.unwrap_or(0.0);
            if !(0.0..=1_000_000.0).contains(&grant) || !grant.is_finite() {
                return Err(ApiError::BadArgs(
                    "grant must be between 0 and 1000000".into(),
                ));
            }
            let r = store
                .care_reply(
                    &pb,
                    who,
                    &NewReply {
                        case_id: a.id,
                        text,
                        via,
                        grant_cents: (grant * 100.0).round() as i64,
                    },
                    now,
                )
                .await?;
            changed("reply", vec![a.id]);
            to_json(&r)
        }
        "cases.note" | "cases.tag" | "cases.wait" | "cases.resolve" | "cases.close" => {
            let (id, change) = match command {
                "cases.note" => {
                    let a: NoteArgs = parse(args)?;
                    (a.id, CaseChange::Note(text_arg("text", &a.text)?))
                }
                "cases.tag" => {
                    let a: TagArgs = parse(args)?;
                    (
                        a.id,
                        CaseChange::Tags {
                            add: a.add,
                            remove: a.remove,
                        },
                    )
                }
                other => {
                    let a: IdArgs = parse(args)?;
                    let st = match other {
                        "cases.wait" => "waiting",
                        "cases.resolve" => "resolved",
                        _ => "closed",
                    };
                    (a.id, CaseChange::Status(st.to_string()))
                }
            };
            let (_, pb) = current_playbook(store, now).await?;
            let c = store.care_update(&pb, who, id, change, now).await?;
            changed(command.trim_start_matches("cases."), vec![id]);
            Ok(json!({ "case": c }))
        }
        "cases.assign" => {
            let a: AssignArgs = parse(args)?;
            let mut ids = a.ids;
            ids.extend(a.id);
            if ids.is_empty() {
                return Err(ApiError::BadArgs("give `id` or `ids`".into()));
            }
            let moved = store.care_assign(who, &ids, a.agent.trim(), now).await?;
            changed("assign", moved.clone());
            Ok(json!({ "moved": moved, "agent": a.agent.trim() }))
        }
        "cases.approve" => {
            let a: ApproveArgs = parse(args)?;
            let d = match a.decision.as_deref().unwrap_or("approve") {
                "approve" => Decision::Approve,
                "edit" => Decision::Edit,
                "reject" => Decision::Reject,
                o => {
                    return Err(ApiError::BadArgs(format!(
                        "decision `{o}`: use approve, edit or reject"
                    )))
                }
            };
            let (_, pb) = current_playbook(store, now).await?;
            let r = store
                .care_decide(
                    &pb,
                    who,
                    a.reply,
                    d,
                    a.text.as_deref(),
                    a.reason.as_deref(),
                    now,
                )
                .await?;
            changed("approve", vec![r.case_id]);
            to_json(&r)
        }
        "cases.tick" => {
            parse::<NoArgs>(args)?;
            let p = tick(store, now).await?;
            changed("tick", p.changed.clone());
            to_json(&p)
        }
        "agents.list" => {
            parse::<NoArgs>(args)?;
            Ok(json!({ "agents": store.care_agents().await? }))
        }
        "agents.add" => {
            let a: AgentArgs = parse(args)?;
            let name = a.name.trim().to_string();
            if name.is_empty() || name.len() > 100 || name == "router" || name == "triage" {
                return Err(ApiError::BadArgs(
                    "name must be 1 to 100 characters (and not router or triage)".into(),
                ));
            }
            let role: Role = a
                .role
                .as_deref()
                .unwrap_or("agent")
                .parse()
                .map_err(ApiError::BadArgs)?;
            if role == Role::Wall {
                return Err(ApiError::BadArgs(
                    "a wall cannot work cases; issue it a token instead".into(),
                ));
            }
            let capacity = a.capacity.unwrap_or(5);
            if !(0..=1000).contains(&capacity) {
                return Err(ApiError::BadArgs("capacity must be 0 to 1000".into()));
            }
            let presence = a.presence.unwrap_or_else(|| "offline".into());
            if !PRESENCES.contains(&presence.as_str()) {
                return Err(ApiError::BadArgs(format!(
                    "presence `{presence}`: use {}",
                    PRESENCES.join(", ")
                )));
            }
            let agent = Agent {
                name,
                role: role.as_str().to_string(),
                skills: a.skills.iter().map(|s| s.trim().to_lowercase()).collect(),
                capacity,
                presence,
                site: a.site.unwrap_or_else(|| "lisbon".into()),
                links: a.links,
            };
            store.care_agent_upsert(&agent, &who.name, now).await?;
            changed("agents", vec![]);
            to_json(&agent)
        }
        "agents.presence" => {
            let a: PresenceArgs = parse(args)?;
            if !PRESENCES.contains(&a.presence.as_str()) {
                return Err(ApiError::BadArgs(format!(
                    "presence `{}`: use {}",
                    a.presence,
                    PRESENCES.join(", ")
                )));
            }
            let name = a.name.unwrap_or_else(|| who.name.clone());
            store
                .care_agent_presence(who, &name, &a.presence, now)
                .await?;
            // Someone coming online takes waiting cases at once.
            let p = tick(store, now).await?;
            changed("presence", p.changed);
            Ok(json!({ "agent": name, "presence": a.presence }))
        }
        "agents.link" => {
            let a: LinkArgs = parse(args)?;
            let mut agent = store
                .care_agents()
                .await?
                .into_iter()
                .find(|x| x.name == a.agent)
                .ok_or_else(|| ApiError::NotFound(format!("no agent `{}`", a.agent)))?;
            let c = a.customer.trim().trim_start_matches('@').to_string();
            if c.is_empty() {
                return Err(ApiError::BadArgs("customer is empty".into()));
            }
            if !agent.links.contains(&c) {
                agent.links.push(c);
            }
            store.care_agent_upsert(&agent, &who.name, now).await?;
            to_json(&agent)
        }
        "playbook.get" => {
            parse::<NoArgs>(args)?;
            let (version, _) = current_playbook(store, now).await?;
            let text = store
                .care_playbook_current()
                .await?
                .map(|(_, t)| t)
                .unwrap_or_default();
            Ok(json!({ "version": version, "text": text }))
        }
        "playbook.check" | "playbook.set" => {
            let a: TextArgs = parse(args)?;
            match playbook::check(&a.text) {
                Err(problems) => {
                    if command == "playbook.set" {
                        return Err(ApiError::BadArgs(format!(
                            "the playbook was not changed; the one in force stays:\n{}",
                            playbook::describe(&problems)
                        )));
                    }
                    Ok(json!({ "ok": false, "problems": problems }))
                }
                Ok(pb) => {
                    let summary = json!({
                        "tracks": pb.tracks.iter().map(|t| &t.name).collect::<Vec<_>>(),
                        "rules": pb.rules.len(),
                        "sites": pb.sites.keys().collect::<Vec<_>>(),
                    });
                    if command == "playbook.check" {
                        return Ok(json!({ "ok": true, "problems": [], "summary": summary }));
                    }
                    // The default in force becomes version 1 first, so history shows what was replaced.
                    current_playbook(store, now).await?;
                    let v = store.care_playbook_save(&a.text, &who.name, now).await?;
                    Ok(json!({ "ok": true, "version": v, "summary": summary }))
                }
            }
        }
        "playbook.history" => {
            parse::<NoArgs>(args)?;
            Ok(json!({ "versions": store.care_playbook_history().await? }))
        }
        "kpi.report" | "kpi.export" => {
            let a: KpiArgs = parse(args)?;
            let to = a.to.unwrap_or(now + 1);
            let from = a.from.unwrap_or(to - 7 * 86_400_000);
            if from >= to {
                return Err(ApiError::BadArgs("`from` must be before `to`".into()));
            }
            let by =
                a.by.as_deref()
                    .map(str::parse::<By>)
                    .transpose()
                    .map_err(ApiError::BadArgs)?;
            let data = store.care_kpi_data(from, to).await?;
            let r = kpi::report(&data, from, to, by, now);
            if command == "kpi.export" {
                if let Some(name) = a.chart.as_deref() {
                    let (caption, rows) = kpi::chart_rows(&r, name).ok_or_else(|| {
                        ApiError::BadArgs(format!(
                            "unknown KPI chart `{name}`; use one of {}",
                            kpi::CHARTS.join(", ")
                        ))
                    })?;
                    let svg = crate::charts::value_bars_svg(
                        &caption,
                        &rows,
                        a.width.unwrap_or(1200),
                        a.height.unwrap_or(700),
                    )
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                    return Ok(json!({ "svg": svg }));
                }
                return Ok(json!({ "csv": kpi::to_csv(&r) }));
            }
            to_json(&r)
        }
        "audit.list" | "audit.export" => {
            let a: AuditArgs = parse(args)?;
            let rows = store
                .care_audit(a.case, a.since.unwrap_or(0), a.limit.unwrap_or(1000))
                .await?;
            match a.format.as_deref() {
                Some("csv") => {
                    let mut out = String::from("id,at,actor,action,case_id,detail\n");
                    for r in &rows {
                        out.push_str(&format!(
                            "{},{},{},{},{},{}\n",
                            r.id,
                            r.at,
                            csv_field(&r.actor),
                            csv_field(&r.action),
                            r.case_id.map(|c| c.to_string()).unwrap_or_default(),
                            csv_field(&r.detail.to_string())
                        ));
                    }
                    Ok(json!({ "csv": out }))
                }
                None | Some("json") => Ok(json!({ "entries": rows })),
                Some(o) => Err(ApiError::BadArgs(format!("format `{o}`: use json or csv"))),
            }
        }
        "view.agent_load" => {
            parse::<NoArgs>(args)?;
            Ok(store.care_load(now).await?)
        }
        other => Err(ApiError::UnknownCommand(other.to_string())),
    }
}
