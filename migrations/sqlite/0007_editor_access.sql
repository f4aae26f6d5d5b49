-- Ending an editor's access: `signed_out_at` (sign out everywhere) revokes every known-browser
-- mark issued before it; `disabled_at` (the CLI's `editor disable`) refuses sign-in as well.
ALTER TABLE editors ADD COLUMN signed_out_at TEXT;
ALTER TABLE editors ADD COLUMN disabled_at TEXT;
