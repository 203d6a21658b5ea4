-- Alerts (src/alerts, issue 6). Event times (fired_at, last_at) are the mentions' time; the
-- lifecycle times (acked_at, escalated_at, resolved_at, created_at) are wall-clock. All ms UTC.
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    merge_key       TEXT    NOT NULL,   -- what merges into it: topic:<t>, channel:<c>, influencer:<a>
    kind            TEXT    NOT NULL,   -- the first signal's kind
    kinds           TEXT    NOT NULL DEFAULT '[]',  -- JSON array of every kind merged in
    topic           TEXT,
    channel         TEXT,
    severity        TEXT    NOT NULL,   -- watch, warning, crisis
    state           TEXT    NOT NULL,   -- open, acknowledged, escalated, resolved
    title           TEXT    NOT NULL,
    fired_at        INTEGER NOT NULL,
    last_at         INTEGER NOT NULL,
    signals         INTEGER NOT NULL DEFAULT 1,
    evidence        TEXT    NOT NULL DEFAULT '{}',  -- JSON: latest evidence per kind
    stories         TEXT    NOT NULL DEFAULT '[]',  -- JSON: top stories
    drill           INTEGER NOT NULL DEFAULT 0,
    drill_run       TEXT,
    site            TEXT    NOT NULL DEFAULT 'default',
    created_at      INTEGER NOT NULL,
    acked_by        TEXT,
    acked_at        INTEGER,
    escalated_at    INTEGER,
    escalation_step INTEGER NOT NULL DEFAULT 0,
    resolved_by     TEXT,
    resolved_at     INTEGER
);
CREATE INDEX alerts_fired ON alerts (fired_at);
CREATE INDEX alerts_state ON alerts (state);

-- Who did what to an alert, and every escalation step and notification.
CREATE TABLE alert_log (
    id       INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    who      TEXT    NOT NULL,
    action   TEXT    NOT NULL,   -- opened, grew, acknowledged, escalated, resolved, notified
    detail   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alert_log_alert ON alert_log (alert_id);

-- Outbound webhook deliveries that failed after every retry (or found the queue full).
CREATE TABLE webhook_dead (
    id       INTEGER PRIMARY KEY,
    target   TEXT    NOT NULL,
    alert_id INTEGER,
    body     TEXT    NOT NULL,
    error    TEXT    NOT NULL,
    attempts INTEGER NOT NULL,
    at       INTEGER NOT NULL
);

-- Drill runs (src/drills): DRILL data is keyed by source 'drill:<id>' and alerts.drill_run.
CREATE TABLE drill_runs (
    id          INTEGER PRIMARY KEY,
    run_key     TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    file        TEXT    NOT NULL,
    state       TEXT    NOT NULL,   -- running, paused, stopped, finished
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    report_path TEXT,
    summary     TEXT    NOT NULL DEFAULT '{}'
);
