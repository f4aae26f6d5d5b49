-- Editors, their sessions and API tokens, the audit log, and what authoring needs on polls.

ALTER TABLE polls ADD COLUMN allow_vote_change INTEGER NOT NULL DEFAULT 0 CHECK (allow_vote_change IN (0, 1));
ALTER TABLE polls ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE polls ADD COLUMN updated_at TEXT;

CREATE TABLE editors (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Only a hash of each session token is kept, so a copy of the database opens no sessions.
CREATE TABLE editor_sessions (
    token_hash   TEXT PRIMARY KEY,
    editor_id    INTEGER NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX editor_sessions_by_editor ON editor_sessions (editor_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    editor_id    INTEGER NOT NULL REFERENCES editors (id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    editor_id INTEGER NOT NULL REFERENCES editors (id),
    action    TEXT NOT NULL,
    poll_id   INTEGER REFERENCES polls (id) ON DELETE SET NULL,
    poll_slug TEXT,
    detail    TEXT NOT NULL,
    at        TEXT NOT NULL
);
