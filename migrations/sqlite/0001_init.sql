-- Sunward schema v1 (SQLite). Times are integer milliseconds since the Unix epoch, UTC.

CREATE TABLE mentions (
    id               INTEGER PRIMARY KEY,
    source           TEXT    NOT NULL,
    source_id        TEXT    NOT NULL,
    channel          TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    text             TEXT    NOT NULL,
    author_handle    TEXT,
    author_name      TEXT,
    author_followers INTEGER,
    author_verified  INTEGER NOT NULL DEFAULT 0,
    url              TEXT,
    lang             TEXT    NOT NULL,
    in_reply_to      TEXT,
    inbound          INTEGER,
    sentiment        REAL    NOT NULL,
    label            INTEGER NOT NULL,   -- 0 negative, 1 neutral, 2 positive
    influence        INTEGER NOT NULL,
    topics           TEXT    NOT NULL DEFAULT '[]',  -- JSON array, the source of truth for rollup corrections
    ingested_at      INTEGER NOT NULL
);
-- Identity of a mention: ingest is idempotent on it.
CREATE UNIQUE INDEX mentions_identity ON mentions (source, source_id);
CREATE INDEX mentions_created ON mentions (created_at);

CREATE TABLE mention_topics (
    topic      TEXT    NOT NULL,
    mention_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (topic, mention_id)
) WITHOUT ROWID;

-- Per-minute counts. topic '' is the all-topics row of a channel.
CREATE TABLE rollup_minute (
    minute   INTEGER NOT NULL,
    channel  TEXT    NOT NULL,
    topic    TEXT    NOT NULL,
    total    INTEGER NOT NULL,
    negative INTEGER NOT NULL,
    neutral  INTEGER NOT NULL,
    positive INTEGER NOT NULL,
    PRIMARY KEY (minute, channel, topic)
) WITHOUT ROWID;

-- Retractions seen (Jetstream/Mastodon deletes), so audits can tell a deleted post from a missing one.
CREATE TABLE tombstones (
    source     TEXT    NOT NULL,
    source_id  TEXT    NOT NULL,
    deleted_at INTEGER NOT NULL,
    PRIMARY KEY (source, source_id)
) WITHOUT ROWID;

-- Dead letters: every rejected record with its reason. Re-ingesting the same file does not pile up.
CREATE TABLE rejects (
    id      INTEGER PRIMARY KEY,
    origin  TEXT    NOT NULL,   -- file path, or api:<run>
    line    INTEGER NOT NULL,
    reason  TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    seen    INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX rejects_identity ON rejects (origin, line, reason);

CREATE TABLE ingest_runs (
    id          INTEGER PRIMARY KEY,
    origin      TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    read        INTEGER NOT NULL DEFAULT 0,
    stored      INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    deleted     INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0
);

-- Resume points of sources, written in the same transaction as the mentions they produced.
CREATE TABLE cursors (
    source     TEXT    PRIMARY KEY,
    cursor     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
