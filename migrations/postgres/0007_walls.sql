-- Walls (issue 3): showcase decisions (approval queue) and curated highlights.
-- Times are integer milliseconds since the Unix epoch, UTC.

-- A lead's decision on a post for showcase screens: 'approved' or 'rejected'.
CREATE TABLE showcase_decisions (
    mention_id BIGINT PRIMARY KEY,
    state      TEXT    NOT NULL,
    decided_by TEXT    NOT NULL,
    decided_at BIGINT NOT NULL
);
CREATE INDEX showcase_decisions_state ON showcase_decisions (state, mention_id);

-- Curated highlights for visitors: resolved cases, positive stories. Shown masked.
CREATE TABLE showcase_highlights (
    mention_id BIGINT PRIMARY KEY,
    note       TEXT    NOT NULL DEFAULT '',
    added_by   TEXT    NOT NULL,
    added_at   BIGINT NOT NULL
);
