//! Routing: a new case goes to the qualified online agent with the most free capacity; with
//! nobody qualified, it waits in the queue with the reason shown.

use std::collections::HashMap;

use super::playbook::Track;
use super::Agent;

/// Does `agent` have every skill `track` asks for?
pub fn qualified(agent: &Agent, track: &Track) -> bool {
    track
        .skills
        .iter()
        .all(|s| agent.skills.iter().any(|a| a.eq_ignore_ascii_case(s)))
}

/// Picks the agent for a case on `track`: qualified, online, with free capacity; most free
/// capacity first, then name (deterministic). `exclude` is the silent assignee on a re-route.
/// `Err` is the queue reason, written for the person reading the queue.
pub fn pick(
    agents: &[Agent],
    open: &HashMap<String, i64>,
    track: &Track,
    exclude: Option<&str>,
) -> Result<String, String> {
    let skilled: Vec<&Agent> = agents
        .iter()
        .filter(|a| qualified(a, track) && Some(a.name.as_str()) != exclude)
        // Only roles that may reply own cases (legal and exec review, they do not work cases).
        .filter(|a| matches!(a.role.as_str(), "agent" | "lead" | "admin"))
        .collect();
    if skilled.is_empty() {
        return Err(if track.skills.is_empty() {
            "no agents".to_string()
        } else {
            format!("no agent has the skills {}", track.skills.join(", "))
        });
    }
    let online: Vec<&&Agent> = skilled.iter().filter(|a| a.presence == "online").collect();
    if online.is_empty() {
        let states: Vec<String> = skilled
            .iter()
            .take(5)
            .map(|a| format!("{} {}", a.name, a.presence))
            .collect();
        return Err(format!("no qualified agent online ({})", states.join(", ")));
    }
    online
        .iter()
        .map(|a| {
            (
                a.capacity - open.get(&a.name).copied().unwrap_or(0),
                &a.name,
            )
        })
        .filter(|(free, _)| *free > 0)
        .max_by(|(fa, na), (fb, nb)| fa.cmp(fb).then(nb.cmp(na)))
        .map(|(_, n)| n.to_string())
        .ok_or_else(|| {
            format!(
                "all {} qualified online agents are at capacity",
                online.len()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(name: &str, skills: &[&str], cap: i64, presence: &str) -> Agent {
        Agent {
            name: name.into(),
            role: "agent".into(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            capacity: cap,
            presence: presence.into(),
            site: "lisbon".into(),
            links: vec![],
        }
    }

    fn track(skills: &[&str]) -> Track {
        Track {
            name: "t".into(),
            site: "default".into(),
            first_response_ms: 1,
            next_response_ms: 1,
            resolution_ms: 1,
            warn_before_ms: 0,
            reroute_after_ms: 1,
            template: String::new(),
            private_reply: false,
            needs_approval: false,
            approver_roles: vec![],
            skills: skills.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn most_free_capacity_wins_among_qualified_online() {
        let agents = vec![
            agent("ana", &["legal"], 5, "online"),
            agent("bo", &[], 10, "online"),
            agent("cy", &["legal"], 3, "online"),
            agent("di", &["legal"], 9, "away"),
        ];
        let open = HashMap::from([("ana".to_string(), 4), ("cy".to_string(), 0)]);
        assert_eq!(
            pick(&agents, &open, &track(&["legal"]), None),
            Ok("cy".into())
        );
        assert_eq!(pick(&agents, &open, &track(&[]), None), Ok("bo".into()));
        assert_eq!(
            pick(&agents, &open, &track(&["legal"]), Some("cy")),
            Ok("ana".into())
        );
    }

    #[test]
    fn queue_reasons_say_why() {
        let agents = vec![
            agent("ana", &["legal"], 1, "online"),
            agent("di", &["legal"], 9, "finishing"),
        ];
        let full = HashMap::from([("ana".to_string(), 1)]);
        assert!(pick(&agents, &full, &track(&["legal"]), None)
            .unwrap_err()
            .contains("at capacity"));
        assert!(pick(&agents, &full, &track(&["crisis"]), None)
            .unwrap_err()
            .contains("skills crisis"));
        assert!(pick(&agents[1..], &full, &track(&["legal"]), None)
            .unwrap_err()
            .contains("di finishing"));
    }
}
