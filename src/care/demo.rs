//! The demo's care floor (`sunward serve --demo`): a team of agents on two sites, a playbook
//! that answers the posts addressed to the demo brand (a sample of them: the demo firehose
//! runs at up to 120 posts a minute), and simulated agents who reply, get approvals and
//! resolve, so the agent-load view shows real, moving load. Nothing here runs without --demo.

use std::time::Duration;

use super::{current_playbook, publish, tick, Agent, CareError};
use crate::auth::{Principal, Role};
use crate::clock::Clock;
use crate::events::Bus;
use crate::store::{CaseChange, CaseFilter, Decision, NewReply, Store};

/// Rules put before the default playbook's for the demo.
const DEMO_RULES: &str = r#"
# Demo: old backfilled posts are watched, only posts addressed to the brand are answered, and
# of those a sample, so a handful of agents can keep up with the demo firehose.
[[rule]]
name = "demo: backfill is history"
if = { older_than_minutes = 20 }
then = "watch"

[[rule]]
name = "demo: not addressed to us"
if = { unless_keywords = ["@skylarkair"] }
then = "watch"

[[rule]]
name = "demo: a sample of what is addressed to us"
if = { sample_percent = 98 }
then = "watch"
"#;

/// The default playbook with the demo rules first (rules are tried in file order, and the
/// `[[rule]]` tables may sit anywhere: TOML keeps their order).
pub fn demo_playbook() -> String {
    let d = super::playbook::DEFAULT;
    match d.find("[[rule]]") {
        Some(i) => format!("{}{DEMO_RULES}\n{}", &d[..i], &d[i..]),
        None => format!("{d}\n{DEMO_RULES}"),
    }
}

fn agent(
    name: &str,
    role: &str,
    skills: &[&str],
    capacity: i64,
    presence: &str,
    site: &str,
) -> Agent {
    Agent {
        name: name.into(),
        role: role.into(),
        skills: skills.iter().map(|s| s.to_string()).collect(),
        capacity,
        presence: presence.into(),
        site: site.into(),
        links: vec![],
    }
}

fn team() -> Vec<Agent> {
    vec![
        agent(
            "ana",
            "agent",
            &["en", "pt", "tier2"],
            6,
            "online",
            "lisbon",
        ),
        agent("bruno", "agent", &["en", "pt"], 5, "online", "lisbon"),
        agent("carla", "agent", &["en", "legal"], 4, "online", "lisbon"),
        agent(
            "rita",
            "lead",
            &["en", "tier2", "crisis", "legal"],
            3,
            "online",
            "lisbon",
        ),
        agent("joy", "agent", &["en"], 6, "online", "always"),
        agent(
            "mark",
            "agent",
            &["en", "tier2", "crisis"],
            5,
            "finishing",
            "always",
        ),
        agent("leo", "legal", &["legal"], 0, "online", "lisbon"),
        agent("eva", "exec", &[], 0, "online", "lisbon"),
    ]
}

/// Seeds the demo team and playbook on a database that has neither (a real center's agents and
/// playbook are never touched), then starts the simulated agents.
pub async fn start(store: Store, clock: Clock, bus: Bus) {
    let now = clock.now_ms();
    if let Err(e) = seed(&store, now).await {
        tracing::warn!(error = %e, "demo: could not seed the care team");
        return;
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(10));
        loop {
            every.tick().await;
            match work(&store, clock.now_ms()).await {
                Ok(ids) => publish(Some(&bus), "demo", ids),
                Err(e) => tracing::warn!(error = %e, "demo: simulated agents failed"),
            }
        }
    });
}

async fn seed(store: &Store, now: i64) -> Result<(), CareError> {
    if store.care_agents().await?.is_empty() {
        for a in team() {
            store.care_agent_upsert(&a, "demo", now).await?;
        }
    }
    let (version, _) = current_playbook(store, now).await?;
    if version == 1 {
        store
            .care_playbook_save(&demo_playbook(), "demo", now)
            .await?;
    }
    Ok(())
}

/// A per-case pseudo-random delay in `[lo, hi)` minutes, stable across ticks.
fn delay(id: i64, salt: i64, lo: i64, hi: i64) -> i64 {
    let h = (id.wrapping_mul(2_654_435_761) ^ salt).rem_euclid(1_000);
    (lo + h * (hi - lo) / 1_000) * 60_000
}

/// One round of the simulated agents: reply to assigned cases after a few minutes, approve
/// pending replies as the reviewers, resolve answered cases, close follow-ups.
async fn work(store: &Store, now: i64) -> Result<Vec<i64>, CareError> {
    let (_, pb) = current_playbook(store, now).await?;
    let team: Vec<Agent> = store.care_agents().await?;
    let role_of = |name: &str| {
        team.iter()
            .find(|a| a.name == name)
            .and_then(|a| a.role.parse::<Role>().ok())
    };
    let mut changed = Vec::new();
    let open = store
        .care_cases(
            &CaseFilter {
                open: true,
                limit: 2_000,
                ..CaseFilter::default()
            },
            now,
        )
        .await?;
    let waiting: std::collections::HashSet<i64> = store
        .care_pending_replies()
        .await?
        .iter()
        .map(|r| r.case_id)
        .collect();
    for c in &open {
        let Some(owner) = &c.owner else { continue };
        let Some(role) = role_of(owner) else { continue };
        let who = Principal::new(owner.clone(), role);
        let since = c.assigned_at.unwrap_or(c.opened_at).max(c.opened_at);
        match c.status.as_str() {
            "assigned" if now - since > delay(c.id, 1, 1, 5) => {
                let track = pb.track(&c.track);
                let via = if track.is_some_and(|t| t.private_reply) {
                    "dm"
                } else {
                    "public"
                };
                let text = track
                    .map(|t| t.template.clone())
                    .unwrap_or_else(|| "We're on it.".into());
                if !waiting.contains(&c.id) {
                    store
                        .care_reply(
                            &pb,
                            &who,
                            &NewReply {
                                case_id: c.id,
                                text,
                                via: via.into(),
                                grant_cents: 0,
                            },
                            now,
                        )
                        .await?;
                    changed.push(c.id);
                }
            }
            "responded"
                if c.first_response_at
                    .is_some_and(|t| now - t > delay(c.id, 2, 2, 6)) =>
            {
                store
                    .care_update(&pb, &who, c.id, CaseChange::Status("resolved".into()), now)
                    .await?;
                changed.push(c.id);
            }
            _ => {}
        }
    }
    // Reviewers approve what waited a minute (legal replies by leo, crisis by eva, the rest rita).
    for r in store.care_pending_replies().await? {
        if now - r.created_at < 60_000 {
            continue;
        }
        let case = open.iter().find(|c| c.id == r.case_id);
        let reviewer = match case.map(|c| c.track.as_str()) {
            Some("legal") => Principal::new("leo", Role::Legal),
            Some("crisis") => Principal::new("eva", Role::Exec),
            _ => Principal::new("rita", Role::Lead),
        };
        if reviewer.name == r.author {
            continue;
        }
        store
            .care_decide(
                &pb,
                &reviewer,
                r.id,
                Decision::Approve,
                None,
                Some("demo review"),
                now,
            )
            .await?;
        changed.push(r.case_id);
    }
    // Follow-ups: the agent asks for satisfaction, then closes.
    let due = store
        .care_cases(
            &CaseFilter {
                status: Some("follow_up_due".into()),
                limit: 500,
                ..CaseFilter::default()
            },
            now,
        )
        .await?;
    for c in due {
        if let Some(owner) = &c.owner {
            let who = Principal::new(owner.clone(), role_of(owner).unwrap_or(Role::Agent));
            store
                .care_update(
                    &pb,
                    &who,
                    c.id,
                    CaseChange::Note("Asked the customer how we did.".into()),
                    now,
                )
                .await?;
            store
                .care_update(&pb, &who, c.id, CaseChange::Status("closed".into()), now)
                .await?;
            changed.push(c.id);
        }
    }
    changed.extend(tick(store, now).await?.changed);
    Ok(changed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_playbook_checks() {
        let pb = super::super::playbook::check(&super::demo_playbook())
            .unwrap_or_else(|p| panic!("{}", super::super::playbook::describe(&p)));
        assert_eq!(pb.rules[0].name, "demo: backfill is history");
    }
}
