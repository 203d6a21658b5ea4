-- Follow-the-sun sites (src/sites): the definition as JSON (time zone, shifts, holidays, next
-- site, on-call contacts), checked by src/sites/spec.rs before it is written.
CREATE TABLE sites (
    name        TEXT    PRIMARY KEY,
    spec        TEXT    NOT NULL,
    updated_at  BIGINT NOT NULL
);
