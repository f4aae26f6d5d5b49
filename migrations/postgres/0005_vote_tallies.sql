-- Running vote counts, so that reading a poll's results costs the same at its 100,000th vote
-- as at its first (no COUNT(*) over the poll's votes). Written in the same transaction as the
-- votes they count. Each instance adds to its own shard, so instances never wait on one
-- another's counter rows; a poll's count is the sum over shards. option_id 0 holds the poll's
-- total (a multiple-choice vote adds to several options but once to the total).
-- PostgreSQL only: SQLite has one writer per database, which keeps exact tallies in memory.
CREATE TABLE vote_tallies (
    poll_id   BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    option_id BIGINT NOT NULL,
    shard     SMALLINT NOT NULL,
    votes     BIGINT NOT NULL,
    PRIMARY KEY (poll_id, option_id, shard)
);

INSERT INTO vote_tallies (poll_id, option_id, shard, votes)
SELECT poll_id, 0, 0, COUNT(*) FROM votes GROUP BY poll_id;

INSERT INTO vote_tallies (poll_id, option_id, shard, votes)
SELECT poll_id, option_id, 0, COUNT(*) FROM vote_choices GROUP BY poll_id, option_id;
