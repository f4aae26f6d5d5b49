-- Editors, their sessions and API tokens, the audit log, and what authoring needs on polls.
-- Same tables and meaning as the SQLite schema.

ALTER TABLE polls ADD COLUMN allow_vote_change BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE polls ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE polls ADD COLUMN updated_at TIMESTAMPTZ;

CREATE TABLE editors (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

-- Only a hash of each session token is kept, so a copy of the database opens no sessions.
CREATE TABLE editor_sessions (
    token_hash   TEXT PRIMARY KEY,
    editor_id    BIGINT NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX editor_sessions_by_editor ON editor_sessions (editor_id);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    editor_id    BIGINT NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    editor_id BIGINT NOT NULL REFERENCES editors (id),
    action    TEXT NOT NULL,
    poll_id   BIGINT REFERENCES polls (id) ON DELETE SET NULL,
    poll_slug TEXT,
    detail    TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
