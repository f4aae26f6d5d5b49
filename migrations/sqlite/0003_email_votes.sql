-- One-click votes from the newsletter: the subscriber a vote came from (a keyed hash of the
-- ESP's subscriber id, never the id itself), so each subscriber counts once per poll too.
ALTER TABLE votes ADD COLUMN subscriber TEXT;
CREATE UNIQUE INDEX votes_by_subscriber ON votes (poll_id, subscriber);
