-- Summaries of reader comments: each one a job (queued → running → done/failed) that any
-- instance's worker may claim, and, once done, its result as one JSON document.
ALTER TABLE polls ADD COLUMN summarise_on_close INTEGER NOT NULL DEFAULT 1 CHECK (summarise_on_close IN (0, 1));

CREATE TABLE summaries (
    id                  INTEGER PRIMARY KEY,
    poll_id             INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    status              TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress            REAL NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    backend             TEXT NOT NULL,
    model               TEXT,
    parameters          TEXT,
    input_hash          TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    error               TEXT,
    needs_review        INTEGER NOT NULL DEFAULT 0 CHECK (needs_review IN (0, 1)),
    comments_considered INTEGER,
    result              TEXT,
    requested_by        INTEGER REFERENCES editors (id),
    approved_by         INTEGER REFERENCES editors (id),
    approved_at         TEXT,
    created_at          TEXT NOT NULL,
    started_at          TEXT,
    finished_at         TEXT,
    worker              TEXT,
    lease_until         TEXT,
    -- A finished summary is whole: a result and its model, or an error, never half of one.
    CHECK (status <> 'done' OR (result IS NOT NULL AND finished_at IS NOT NULL)),
    CHECK (status <> 'failed' OR (error IS NOT NULL AND finished_at IS NOT NULL))
);
CREATE INDEX summaries_by_poll ON summaries (poll_id, id);
-- One summary in progress per poll, whichever instance asked.
CREATE UNIQUE INDEX summaries_one_active ON summaries (poll_id) WHERE status IN ('queued', 'running');
CREATE INDEX summaries_waiting ON summaries (status, id);
