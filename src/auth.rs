//! Who may do what. Every API command (HTTP, Tauri IPC) and every CLI action names a command;
//! [`allowed`] says which roles may run it. Unknown commands are admin-only, so a new command
//! that nobody listed is closed, not open.
//!
//! Tokens: the `serve` token (printed at start or `SUNWARD_TOKEN`) is the admin's. Further
//! tokens are issued per person or per wall PC with `sunward token add NAME --role ROLE`; only
//! their SHA-256 is stored (table `api_tokens`), so a stolen database does not leak them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The roles of a command center (issue 4, "Roles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Handles cases: triage, reply, correct sentiment.
    Agent,
    /// Shift lead: everything an agent does, plus reassignment, handoffs, drills, acks.
    Lead,
    /// Reviews replies on legal tracks.
    Legal,
    /// Executive: reads everything, approves crisis replies, watches drills.
    Exec,
    /// Configures the center: sources, playbook, profiles, tokens.
    Admin,
    /// A wall screen: reads wall views, nothing else.
    Wall,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Agent,
        Role::Lead,
        Role::Legal,
        Role::Exec,
        Role::Admin,
        Role::Wall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Lead => "lead",
            Role::Legal => "legal",
            Role::Exec => "exec",
            Role::Admin => "admin",
            Role::Wall => "wall",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown role `{s}`; use one of agent, lead, legal, exec, admin, wall")
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is calling: a person (or wall PC) and their role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

impl Principal {
    pub fn new(name: impl Into<String>, role: Role) -> Principal {
        Principal {
            name: name.into(),
            role,
        }
    }
    /// The local administrator: the `serve` token holder, the CLI on the database file, the
    /// desktop app's operator window until someone signs in as a narrower role.
    pub fn admin() -> Principal {
        Principal::new("admin", Role::Admin)
    }
}

/// Access classes. Each command belongs to one; each role holds a set of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// What a wall shows: views, charts, health, the wall profile. Masked when in showcase.
    WallRead,
    /// Reading operational data beyond the wall: mentions in full, cases, rejects, sources.
    Read,
    /// Working cases: claim, reply, note, correct sentiment.
    Work,
    /// Shift-lead actions: reassign, bulk move, ack alerts, handoffs, push views, drills.
    Lead,
    /// Reviewing replies that need approval.
    Approve,
    /// Configuration: sources, playbook, profiles, tokens, model reset/import.
    Admin,
}

/// Which class a command is in. Commands not listed here are [`Access::Admin`].
/// Each area adds its commands here when it adds them to the dispatcher.
pub fn access_of(command: &str) -> Access {
    match command {
        // Foundation: wall views.
        "health" | "volume" | "sentiment" | "stream" | "chart" | "wall_profile" => Access::WallRead,
        "rejects" | "sources" | "whoami" => Access::Read,
        "sentiment.correct" => Access::Work,
        "sentiment.model" => Access::Read,
        // Walls (src/wall, src/showcase): operating the walls is a lead's job.
        "wall.push"
        | "wall.freeze"
        | "wall.blackout"
        | "wall.release"
        | "wall.drill"
        | "wall.ack"
        | "showcase.queue"
        | "showcase.approve"
        | "showcase.reject"
        | "showcase.highlight"
        | "showcase.unhighlight" => Access::Lead,
        "wall.check" => Access::Read,
        // Alerts (src/alerts/api.rs): the on-call lead owns acknowledging and escalating.
        "alerts.ack" | "alerts.resolve" | "alerts.escalate" => Access::Lead,
        // Drills (src/drills/api.rs): leads start and steer them; everyone may read them.
        "drills.start" | "drills.pause" | "drills.resume" | "drills.stop" => Access::Lead,
        // Care (src/care/api.rs): agents work cases, leads move them, reviewers approve.
        "cases.pending" | "playbook.check" | "playbook.history" | "playbook.get" => Access::Read,
        "cases.claim" | "cases.reply" | "cases.note" | "cases.tag" | "cases.wait"
        | "cases.resolve" | "cases.close" | "agents.presence" => Access::Work,
        "cases.assign" | "cases.tick" => Access::Lead,
        "cases.approve" => Access::Approve,
        "wall.alive" => Access::WallRead,
        // Follow-the-sun (src/sites): everyone but a wall may see who is on duty.
        "shifts.now" => Access::Read,
        // Follow-the-sun handoffs (src/handoff): leads run them; legal and exec read briefs.
        "handoff.create" | "handoff.edit" | "handoff.sign" | "handoff.ack" | "handoff.move"
        | "handoff.tick" => Access::Lead,
        "handoff.moves" => Access::Read,
        _ => area_access(command).unwrap_or(Access::Admin),
    }
}

/// Commands of later areas (walls, care, alerts, sentiment learning, sites), by prefix:
/// `wall.*` reads are wall-readable, and so on. Keeps the table in one place.
fn area_access(command: &str) -> Option<Access> {
    let (area, verb) = command.split_once('.')?;
    Some(match (area, verb) {
        // Wall views of later issues (alerts board, agent load, follow-the-sun strip, ...).
        ("view", _) => Access::WallRead,
        (_, "list" | "show" | "get" | "status" | "report" | "export" | "kpi" | "stats") => {
            Access::Read
        }
        _ => return None,
    })
}

/// May `role` run something of class `access`?
pub fn role_has(role: Role, access: Access) -> bool {
    use Access::*;
    match role {
        Role::Admin => true,
        Role::Wall => access == WallRead,
        Role::Agent => matches!(access, WallRead | Read | Work),
        Role::Lead => matches!(access, WallRead | Read | Work | Lead | Approve),
        Role::Legal => matches!(access, WallRead | Read | Approve),
        Role::Exec => matches!(access, WallRead | Read | Approve),
    }
}

/// May `role` run `command`?
pub fn allowed(role: Role, command: &str) -> bool {
    role_has(role, access_of(command))
}

/// A fresh random API token (32 bytes, hex).
pub fn new_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison, so a token does not leak through response timing.
pub fn token_matches(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_reads_views_only() {
        assert!(allowed(Role::Wall, "volume"));
        assert!(allowed(Role::Wall, "view.alerts"));
        assert!(!allowed(Role::Wall, "rejects"));
        assert!(!allowed(Role::Wall, "cases.list"));
        assert!(!allowed(Role::Wall, "sources"));
    }

    #[test]
    fn unknown_commands_are_admin_only() {
        for r in Role::ALL {
            assert_eq!(allowed(r, "frobnicate"), r == Role::Admin, "{r}");
        }
    }

    #[test]
    fn roles_parse_case_insensitively_and_name_the_choices() {
        assert_eq!("Lead".parse::<Role>(), Ok(Role::Lead));
        let e = "boss".parse::<Role>().unwrap_err();
        assert!(e.contains("agent, lead"), "{e}");
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(token_matches(&a, &a.clone()));
        assert!(!token_matches(&a, &b));
    }
}
