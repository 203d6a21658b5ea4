-- Social care workflow (issue 4, src/care, docs/care.md). Times are integer ms UTC.

-- Every playbook put in force, newest = highest version. Never edited in place.
CREATE TABLE care_playbooks (
    version    BIGSERIAL PRIMARY KEY,
    text       TEXT    NOT NULL,
    changed_by TEXT    NOT NULL,
    changed_at BIGINT NOT NULL
);

-- People who work cases (and the roles the CLI's --as NAME resolves to).
CREATE TABLE care_agents (
    name        TEXT    PRIMARY KEY,
    role        TEXT    NOT NULL,               -- agent, lead, legal, exec, admin
    skills      TEXT    NOT NULL DEFAULT '[]',  -- JSON array: products, languages, tiers
    capacity    BIGINT NOT NULL,               -- max open cases
    presence    TEXT    NOT NULL,               -- online, away, offline, finishing
    site        TEXT    NOT NULL,
    links       TEXT    NOT NULL DEFAULT '[]',  -- JSON array of customer handles the agent is linked to
    created_at  BIGINT NOT NULL,
    presence_at BIGINT NOT NULL
);

CREATE TABLE care_cases (
    id                BIGSERIAL PRIMARY KEY,
    status            TEXT    NOT NULL,   -- new, assigned, responded, waiting, resolved, follow_up_due, closed
    track             TEXT    NOT NULL,
    site              TEXT    NOT NULL,
    owner             TEXT,
    queue_reason      TEXT,
    customer          TEXT    NOT NULL,   -- author handle
    channel           TEXT    NOT NULL,
    brand             TEXT,               -- first @handle addressed, or the brand that replied
    topic             TEXT,
    conversation      TEXT    NOT NULL,   -- source:root source_id
    rule              TEXT    NOT NULL,
    playbook_version  BIGINT NOT NULL,
    drill             BIGINT NOT NULL DEFAULT 0,
    tags              TEXT    NOT NULL DEFAULT '[]',
    flags             TEXT    NOT NULL DEFAULT '[]',
    opened_at         BIGINT NOT NULL,   -- event time of the opening mention
    assigned_at       BIGINT,
    first_response_at BIGINT,
    last_response_at  BIGINT,
    last_customer_at  BIGINT NOT NULL,
    resolved_at       BIGINT,
    closed_at         BIGINT,
    follow_up_at      BIGINT,
    first_due         BIGINT NOT NULL,
    next_due          BIGINT,
    resolution_due    BIGINT NOT NULL,
    warn_at           BIGINT NOT NULL,   -- pre-breach warning time of the first response
    warned            BIGINT NOT NULL DEFAULT 0,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX care_cases_status ON care_cases(status, owner);
CREATE INDEX care_cases_customer ON care_cases(customer, opened_at);
CREATE INDEX care_cases_conversation ON care_cases(conversation);
CREATE INDEX care_cases_opened ON care_cases(opened_at);

-- Every mention triage has seen, with its outcome (open, attach, do_not_respond, watch, response).
CREATE TABLE care_triage (
    mention_id   BIGINT PRIMARY KEY,
    source       TEXT    NOT NULL,
    source_id    TEXT    NOT NULL,
    conversation TEXT    NOT NULL,
    outcome      TEXT    NOT NULL,
    reason       TEXT,
    rule         TEXT,
    case_id      BIGINT,
    drill        BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE INDEX care_triage_identity ON care_triage(source, source_id);
CREATE INDEX care_triage_case ON care_triage(case_id);
CREATE INDEX care_triage_conversation ON care_triage(conversation);

CREATE TABLE care_notes (
    id      BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL,
    author  TEXT    NOT NULL,
    text    TEXT    NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX care_notes_case ON care_notes(case_id);

-- Replies: written by an agent (maybe waiting for approval) or the brand's real reply seen in a feed.
CREATE TABLE care_replies (
    id          BIGSERIAL PRIMARY KEY,
    case_id     BIGINT NOT NULL,
    author      TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    via         TEXT    NOT NULL,               -- public, dm, email
    grant_cents BIGINT NOT NULL DEFAULT 0,     -- goodwill/compensation granted with the reply
    status      TEXT    NOT NULL,               -- pending, sent, rejected
    needed      BIGINT NOT NULL DEFAULT 0,     -- approvals needed
    approvals   TEXT    NOT NULL DEFAULT '[]',  -- JSON [{name, role, at, edited}]
    flags       TEXT    NOT NULL DEFAULT '[]',
    reason      TEXT,
    external    BIGINT NOT NULL DEFAULT 0,     -- 1 = the brand's reply read from a feed
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT
);
CREATE INDEX care_replies_case ON care_replies(case_id);
CREATE INDEX care_replies_status ON care_replies(status);

-- Append-only audit log: routing, reassignment, approvals, grants, playbook changes, do-not-respond.
CREATE TABLE care_audit (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    case_id BIGINT,
    detail  TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX care_audit_case ON care_audit(case_id);
CREATE FUNCTION care_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER care_audit_no_update BEFORE UPDATE OR DELETE ON care_audit
FOR EACH ROW EXECUTE FUNCTION care_audit_append_only();

-- Small counters: the triage cursor (last mention id seen).
CREATE TABLE care_state (
    key   TEXT    PRIMARY KEY,
    value BIGINT NOT NULL
);
-- Mentions stored before this migration are not triaged (an upgraded database would otherwise
-- open a case for every old post); new ones are.
INSERT INTO care_state (key, value) SELECT 'triage_cursor', COALESCE(MAX(id), 0) FROM mentions;
