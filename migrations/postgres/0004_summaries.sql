-- Summaries of reader comments: each one a job (queued → running → done/failed) that any
-- instance's worker may claim, and, once done, its result as one JSON document.
-- Same tables and meaning as the SQLite schema.
ALTER TABLE polls ADD COLUMN summarise_on_close BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE summaries (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    poll_id             BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    status              TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress            DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    backend             TEXT NOT NULL,
    model               TEXT,
    parameters          TEXT,
    input_hash          TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    error               TEXT,
    needs_review        BOOLEAN NOT NULL DEFAULT FALSE,
    comments_considered INTEGER,
    result              TEXT,
    requested_by        BIGINT REFERENCES editors (id),
    approved_by         BIGINT REFERENCES editors (id),
    approved_at         TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    started_at          TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ,
    worker              TEXT,
    lease_until         TIMESTAMPTZ,
    -- A finished summary is whole: a result and its model, or an error, never half of one.
    CHECK (status <> 'done' OR (result IS NOT NULL AND finished_at IS NOT NULL)),
    CHECK (status <> 'failed' OR (error IS NOT NULL AND finished_at IS NOT NULL))
);
CREATE INDEX summaries_by_poll ON summaries (poll_id, id);
-- One summary in progress per poll, whichever instance asked.
CREATE UNIQUE INDEX summaries_one_active ON summaries (poll_id) WHERE status IN ('queued', 'running');
CREATE INDEX summaries_waiting ON summaries (status, id);
