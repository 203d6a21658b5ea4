-- Live listening sources (src/connectors). Secrets are NOT here: they live in a 0600 file beside
-- the database (docs/sources.md).
CREATE TABLE sources (
    name        TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,   -- rss, mastodon, jetstream, x, reddit, webhook
    url         TEXT    NOT NULL,
    interval_ms BIGINT NOT NULL,
    options     TEXT    NOT NULL DEFAULT '{}',  -- JSON: which env vars the secrets came from, kind options
    enabled     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL
);

-- Webhook signatures already accepted, so a replayed request is refused after a restart too.
CREATE TABLE webhook_signatures (
    signature TEXT    PRIMARY KEY,
    source    TEXT    NOT NULL,
    seen_at   BIGINT NOT NULL
);

-- Last health of each source as its runner saw it, for `sunward source list` in another process.
CREATE TABLE source_health (
    name   TEXT    PRIMARY KEY,
    health TEXT    NOT NULL,   -- JSON, as `GET /api/v1/sources` shows it
    at     BIGINT NOT NULL
);
