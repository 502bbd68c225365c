-- Staff accounts (issue 6): second factor, lockout, and the audit log.
-- Times are Unix microseconds, booleans 0/1.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
ALTER TABLE sessions ADD COLUMN two_factor INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_user ON sessions (user_id);

-- The audit log is append-only and hash-chained: each row's hash covers its
-- fields and the hash of the row before (see internal/store/audit.go).
-- IDs are given by the writer, one after another, with no gaps.
CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor_id INTEGER NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object TEXT NOT NULL,
	detail TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_object ON audit_log (object, id);

-- The head names the last entry, so that removing the newest entries is
-- detected too.
CREATE TABLE audit_head (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	id INTEGER NOT NULL,
	hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (one, id, hash) VALUES (1, 0, '');

-- Vigil never changes or removes an entry; these refuse it from anyone
-- else who has not first dropped them (which verification then catches).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
