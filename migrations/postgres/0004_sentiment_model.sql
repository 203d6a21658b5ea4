-- Sentiment learning (src/enrich/learn.rs, src/store/model.rs). Times are integer ms, UTC.

-- Model snapshots, one row per version. The newest row is the current model; corrections
-- with an id above `last_correction` (and not held back) are replayed on top of it at load.
CREATE TABLE sentiment_models (
    version         BIGSERIAL PRIMARY KEY,
    created_at      BIGINT NOT NULL,
    origin          TEXT    NOT NULL,   -- correct, train, import, reset
    learned         BIGINT NOT NULL,   -- texts the model has learned from
    last_correction BIGINT NOT NULL DEFAULT 0,
    model           BYTEA    NOT NULL    -- Learner::to_bytes
);

-- Every correction an agent made, with who and when. Every 5th is held back: not learned
-- from, used to measure the model against the default engine.
CREATE TABLE sentiment_corrections (
    id          BIGSERIAL PRIMARY KEY,
    mention_id  BIGINT,
    text        TEXT    NOT NULL,
    old_label   BIGINT NOT NULL,   -- 0 negative, 1 neutral, 2 positive
    label       BIGINT NOT NULL,
    by_name     TEXT    NOT NULL,
    at          BIGINT NOT NULL,
    held_back   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sentiment_corrections_mention ON sentiment_corrections (mention_id);
