-- Sunward schema v1 (PostgreSQL). Times are integer milliseconds since the Unix epoch, UTC.

CREATE TABLE mentions (
    id               BIGSERIAL PRIMARY KEY,
    source           TEXT    NOT NULL,
    source_id        TEXT    NOT NULL,
    channel          TEXT    NOT NULL,
    created_at       BIGINT NOT NULL,
    text             TEXT    NOT NULL,
    author_handle    TEXT,
    author_name      TEXT,
    author_followers BIGINT,
    author_verified  BOOLEAN NOT NULL DEFAULT FALSE,
    url              TEXT,
    lang             TEXT    NOT NULL,
    in_reply_to      TEXT,
    inbound          BOOLEAN,
    sentiment        DOUBLE PRECISION    NOT NULL,
    label            BIGINT NOT NULL,   -- 0 negative, 1 neutral, 2 positive
    influence        BIGINT NOT NULL,
    topics           TEXT    NOT NULL DEFAULT '[]',  -- JSON array, the source of truth for rollup corrections
    ingested_at      BIGINT NOT NULL
);
-- Identity of a mention: ingest is idempotent on it.
CREATE UNIQUE INDEX mentions_identity ON mentions (source, source_id);
CREATE INDEX mentions_created ON mentions (created_at);

CREATE TABLE mention_topics (
    topic      TEXT    NOT NULL,
    mention_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (topic, mention_id)
);

-- Per-minute counts. topic '' is the all-topics row of a channel.
CREATE TABLE rollup_minute (
    minute   BIGINT NOT NULL,
    channel  TEXT    NOT NULL,
    topic    TEXT    NOT NULL,
    total    BIGINT NOT NULL,
    negative BIGINT NOT NULL,
    neutral  BIGINT NOT NULL,
    positive BIGINT NOT NULL,
    PRIMARY KEY (minute, channel, topic)
);

-- Retractions seen (Jetstream/Mastodon deletes), so audits can tell a deleted post from a missing one.
CREATE TABLE tombstones (
    source     TEXT    NOT NULL,
    source_id  TEXT    NOT NULL,
    deleted_at BIGINT NOT NULL,
    PRIMARY KEY (source, source_id)
);

-- Dead letters: every rejected record with its reason. Re-ingesting the same file does not pile up.
CREATE TABLE rejects (
    id      BIGSERIAL PRIMARY KEY,
    origin  TEXT    NOT NULL,   -- file path, or api:<run>
    line    BIGINT NOT NULL,
    reason  TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    at      BIGINT NOT NULL,
    seen    BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX rejects_identity ON rejects (origin, line, reason);

CREATE TABLE ingest_runs (
    id          BIGSERIAL PRIMARY KEY,
    origin      TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    read        BIGINT NOT NULL DEFAULT 0,
    stored      BIGINT NOT NULL DEFAULT 0,
    duplicates  BIGINT NOT NULL DEFAULT 0,
    rejected    BIGINT NOT NULL DEFAULT 0,
    deleted     BIGINT NOT NULL DEFAULT 0,
    skipped     BIGINT NOT NULL DEFAULT 0
);

-- Resume points of sources, written in the same transaction as the mentions they produced.
CREATE TABLE cursors (
    source     TEXT    PRIMARY KEY,
    cursor     TEXT    NOT NULL,
    updated_at BIGINT NOT NULL
);
