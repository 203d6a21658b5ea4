-- Follow-the-sun handoff briefs and load transfer (issue 5, src/handoff, docs/follow-the-sun.md).
-- Times are integer ms UTC; JSON is TEXT parsed in Rust. Portable to PostgreSQL.

-- One brief from the outgoing site to the incoming one. `content` is the generated snapshot
-- (cases with SLA clocks, alerts, volume/sentiment series); notes and watch items are what the
-- outgoing lead edits until signing. status: draft, signed, escalated, acknowledged.
CREATE TABLE handoff_briefs (
    id               INTEGER PRIMARY KEY,
    from_site        TEXT    NOT NULL,
    to_site          TEXT    NOT NULL,
    from_shift       TEXT,
    to_shift         TEXT,
    shift_end        INTEGER,
    status           TEXT    NOT NULL,
    content          TEXT    NOT NULL DEFAULT '{}',
    notes            TEXT    NOT NULL DEFAULT '',
    watch            TEXT    NOT NULL DEFAULT '[]',
    bulk_agent       TEXT,
    contacts         TEXT    NOT NULL DEFAULT '[]',  -- incoming shift's on-call chain [{role, who}]
    escalate_after   INTEGER NOT NULL,               -- ms between escalation steps
    escalation_step  INTEGER NOT NULL DEFAULT 0,
    escalated_at     INTEGER,
    created_by       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_by       TEXT,
    updated_at       INTEGER NOT NULL,
    signed_by        TEXT,
    signed_at        INTEGER,
    acked_by         TEXT,
    acked_at         INTEGER
);
CREATE INDEX handoff_briefs_status ON handoff_briefs(status, signed_at);

-- The numbered items of a signed brief, each acknowledged on its own or all at once.
-- kind: case, alert, watch, notes.
CREATE TABLE handoff_items (
    brief_id  INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    ref       TEXT    NOT NULL,
    label     TEXT    NOT NULL,
    acked_by  TEXT,
    acked_at  INTEGER,
    PRIMARY KEY (brief_id, n)
);

-- Every case moved between sites (at a signed handoff, or a lead's surge move: brief_id NULL).
-- The new owner must act by `act_by` (the track's re-route limit) or the case re-routes.
-- outcome: pending, acted, rerouted, superseded, overdue.
CREATE TABLE handoff_moves (
    id         INTEGER PRIMARY KEY,
    brief_id   INTEGER,
    case_id    INTEGER NOT NULL,
    from_site  TEXT    NOT NULL,
    to_site    TEXT    NOT NULL,
    from_owner TEXT,
    to_owner   TEXT    NOT NULL,
    moved_by   TEXT    NOT NULL,
    moved_at   INTEGER NOT NULL,
    act_by     INTEGER NOT NULL,
    outcome    TEXT    NOT NULL DEFAULT 'pending',
    outcome_at INTEGER
);
CREATE INDEX handoff_moves_pending ON handoff_moves(outcome, act_by);
CREATE INDEX handoff_moves_case ON handoff_moves(case_id);

-- The follow-the-sun site holding a case when it has no owner (a case follows its owner's
-- site otherwise). `site` stays the SLA calendar of the track: clocks never move with a case.
ALTER TABLE care_cases ADD COLUMN center TEXT;
