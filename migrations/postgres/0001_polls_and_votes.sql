-- Polls, their options, votes and comments. Same tables and meaning as the SQLite schema.

CREATE TABLE newsletter_issues (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title        TEXT NOT NULL,
    published_on TIMESTAMPTZ NOT NULL,
    url          TEXT
);

CREATE TABLE polls (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug               TEXT NOT NULL UNIQUE,
    question           TEXT NOT NULL CHECK (length(question) > 0),
    kind               TEXT NOT NULL CHECK (kind IN ('single', 'multiple')),
    max_choices        BIGINT NOT NULL CHECK (max_choices >= 1),
    allow_comment      BOOLEAN NOT NULL DEFAULT FALSE,
    results_visibility TEXT NOT NULL CHECK (results_visibility IN ('always', 'after_vote', 'after_close', 'never')),
    publication        TEXT NOT NULL CHECK (publication IN ('draft', 'published', 'archived')),
    opens_at           TIMESTAMPTZ NOT NULL,
    closes_at          TIMESTAMPTZ NOT NULL,
    issue_id           BIGINT REFERENCES newsletter_issues (id),
    created_at         TIMESTAMPTZ NOT NULL,
    CHECK (closes_at > opens_at),
    CHECK (kind = 'multiple' OR max_choices = 1)
);

CREATE TABLE poll_options (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    poll_id  BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    label    TEXT NOT NULL CHECK (length(label) > 0),
    position BIGINT NOT NULL,
    UNIQUE (poll_id, key),
    UNIQUE (poll_id, position),
    UNIQUE (poll_id, id)
);

CREATE TABLE votes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    poll_id    BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter_id   TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('web', 'api', 'embed', 'email')),
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (poll_id, voter_id),
    UNIQUE (poll_id, id)
);

CREATE TABLE vote_choices (
    vote_id   BIGINT NOT NULL,
    poll_id   BIGINT NOT NULL,
    option_id BIGINT NOT NULL,
    PRIMARY KEY (vote_id, option_id),
    FOREIGN KEY (poll_id, vote_id) REFERENCES votes (poll_id, id) ON DELETE CASCADE,
    FOREIGN KEY (poll_id, option_id) REFERENCES poll_options (poll_id, id)
);
CREATE INDEX vote_choices_by_option ON vote_choices (poll_id, option_id);

CREATE TABLE comments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vote_id    BIGINT NOT NULL UNIQUE REFERENCES votes (id) ON DELETE CASCADE,
    poll_id    BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    body       TEXT NOT NULL CHECK (char_length(body) BETWEEN 1 AND 1000),
    hidden     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX comments_by_poll ON comments (poll_id, created_at);

CREATE TABLE app_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
