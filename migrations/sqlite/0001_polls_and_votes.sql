-- Polls, their options, votes and comments. Times are UTC, stored as RFC 3339 text.

CREATE TABLE newsletter_issues (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    published_on TEXT NOT NULL,
    url          TEXT
);

CREATE TABLE polls (
    id                 INTEGER PRIMARY KEY,
    slug               TEXT NOT NULL UNIQUE,
    question           TEXT NOT NULL CHECK (length(question) > 0),
    kind               TEXT NOT NULL CHECK (kind IN ('single', 'multiple')),
    max_choices        INTEGER NOT NULL CHECK (max_choices >= 1),
    allow_comment      INTEGER NOT NULL DEFAULT 0 CHECK (allow_comment IN (0, 1)),
    results_visibility TEXT NOT NULL CHECK (results_visibility IN ('always', 'after_vote', 'after_close', 'never')),
    publication        TEXT NOT NULL CHECK (publication IN ('draft', 'published', 'archived')),
    opens_at           TEXT NOT NULL,
    closes_at          TEXT NOT NULL,
    issue_id           INTEGER REFERENCES newsletter_issues (id),
    created_at         TEXT NOT NULL,
    CHECK (closes_at > opens_at),
    CHECK (kind = 'multiple' OR max_choices = 1)
);

CREATE TABLE poll_options (
    id       INTEGER PRIMARY KEY,
    poll_id  INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    label    TEXT NOT NULL CHECK (length(label) > 0),
    position INTEGER NOT NULL,
    UNIQUE (poll_id, key),
    UNIQUE (poll_id, position),
    UNIQUE (poll_id, id)
);

-- One vote per voter per poll, enforced here and not only in code.
CREATE TABLE votes (
    id         INTEGER PRIMARY KEY,
    poll_id    INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter_id   TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('web', 'api', 'embed', 'email')),
    created_at TEXT NOT NULL,
    UNIQUE (poll_id, voter_id),
    UNIQUE (poll_id, id)
);

-- A choice must name an option of the same poll as its vote.
CREATE TABLE vote_choices (
    vote_id   INTEGER NOT NULL,
    poll_id   INTEGER NOT NULL,
    option_id INTEGER NOT NULL,
    PRIMARY KEY (vote_id, option_id),
    FOREIGN KEY (poll_id, vote_id) REFERENCES votes (poll_id, id) ON DELETE CASCADE,
    FOREIGN KEY (poll_id, option_id) REFERENCES poll_options (poll_id, id)
);
CREATE INDEX vote_choices_by_option ON vote_choices (poll_id, option_id);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    vote_id    INTEGER NOT NULL UNIQUE REFERENCES votes (id) ON DELETE CASCADE,
    poll_id    INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    body       TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    hidden     INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    created_at TEXT NOT NULL
);
CREATE INDEX comments_by_poll ON comments (poll_id, created_at);

-- Server secrets (the voter-cookie key), generated once and shared by every instance.
CREATE TABLE app_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
