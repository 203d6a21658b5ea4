-- API tokens issued per person or wall PC (src/auth.rs). Only the SHA-256 of a token is kept.
CREATE TABLE api_tokens (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL,   -- agent, lead, legal, exec, admin, wall
    hash        TEXT    NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_name ON api_tokens(name);
