-- Alerts (src/alerts, issue 6). Event times (fired_at, last_at) are the mentions' time; the
-- lifecycle times (acked_at, escalated_at, resolved_at, created_at) are wall-clock. All ms UTC.
CREATE TABLE alerts (
    id              BIGSERIAL PRIMARY KEY,
    merge_key       TEXT    NOT NULL,   -- what merges into it: topic:<t>, channel:<c>, influencer:<a>
    kind            TEXT    NOT NULL,   -- the first signal's kind
    kinds           TEXT    NOT NULL DEFAULT '[]',  -- JSON array of every kind merged in
    topic           TEXT,
    channel         TEXT,
    severity        TEXT    NOT NULL,   -- watch, warning, crisis
    state           TEXT    NOT NULL,   -- open, acknowledged, escalated, resolved
    title           TEXT    NOT NULL,
    fired_at        BIGINT NOT NULL,
    last_at         BIGINT NOT NULL,
    signals         BIGINT NOT NULL DEFAULT 1,
    evidence        TEXT    NOT NULL DEFAULT '{}',  -- JSON: latest evidence per kind
    stories         TEXT    NOT NULL DEFAULT '[]',  -- JSON: top stories
    drill           BIGINT NOT NULL DEFAULT 0,
    drill_run       TEXT,
    site            TEXT    NOT NULL DEFAULT 'default',
    created_at      BIGINT NOT NULL,
    acked_by        TEXT,
    acked_at        BIGINT,
    escalated_at    BIGINT,
    escalation_step BIGINT NOT NULL DEFAULT 0,
    resolved_by     TEXT,
    resolved_at     BIGINT
);
CREATE INDEX alerts_fired ON alerts (fired_at);
CREATE INDEX alerts_state ON alerts (state);

-- Who did what to an alert, and every escalation step and notification.
CREATE TABLE alert_log (
    id       BIGSERIAL PRIMARY KEY,
    alert_id BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    who      TEXT    NOT NULL,
    action   TEXT    NOT NULL,   -- opened, grew, acknowledged, escalated, resolved, notified
    detail   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alert_log_alert ON alert_log (alert_id);

-- Outbound webhook deliveries that failed after every retry (or found the queue full).
CREATE TABLE webhook_dead (
    id       BIGSERIAL PRIMARY KEY,
    target   TEXT    NOT NULL,
    alert_id BIGINT,
    body     TEXT    NOT NULL,
    error    TEXT    NOT NULL,
    attempts BIGINT NOT NULL,
    at       BIGINT NOT NULL
);

-- Drill runs (src/drills): DRILL data is keyed by source 'drill:<id>' and alerts.drill_run.
CREATE TABLE drill_runs (
    id          BIGSERIAL PRIMARY KEY,
    run_key     TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    file        TEXT    NOT NULL,
    state       TEXT    NOT NULL,   -- running, paused, stopped, finished
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    report_path TEXT,
    summary     TEXT    NOT NULL DEFAULT '{}'
);
