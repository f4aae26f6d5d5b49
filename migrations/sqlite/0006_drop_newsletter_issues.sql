-- Polls were once meant to belong to a newsletter issue; nothing ever set or read that link.
ALTER TABLE polls DROP COLUMN issue_id;
DROP TABLE newsletter_issues;
