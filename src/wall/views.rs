//! The view kinds a profile may name. The UI registers the same names in
//! `ui/src/views/registry.ts`; a view added there is added here too (one line each).

/// Every view a wall screen can show.
pub const KNOWN_VIEWS: &[&str] = &[
    "volume",
    "sentiment",
    "stream",
    "topics",
    "top_posts",
    "follow_the_sun",
    "kpi",
    "health",
    "highlights",
    "tour",
    // Issue 6 (alerts) and issue 4 (care) build these; profiles may name them already.
    "alerts",
    "crisis",
    "agent_load",
];

pub fn is_known_view(name: &str) -> bool {
    KNOWN_VIEWS.contains(&name)
}
