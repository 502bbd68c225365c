-- Staff accounts (issue 6): second factor, lockout, and the audit log.
ALTER TABLE users
	ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '',
	ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '',
	ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0,
	ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE sessions ADD COLUMN two_factor BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX sessions_user ON sessions (user_id);

-- The audit log is append-only and hash-chained: each row's hash covers its
-- fields and the hash of the row before (see internal/store/audit.go).
-- IDs are given by the writer, one after another, with no gaps; detail is
-- TEXT, not JSONB, because the hash covers its exact bytes.
CREATE TABLE audit_log (
	id BIGINT PRIMARY KEY,
	at TIMESTAMPTZ NOT NULL,
	actor_id BIGINT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object TEXT NOT NULL,
	detail TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_object ON audit_log (object, id);

-- The head names the last entry, so that removing the newest entries is
-- detected too.
CREATE TABLE audit_head (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	id BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (one, id, hash) VALUES (1, 0, '');

-- Vigil never changes or removes an entry; this refuses it from anyone
-- else who has not first dropped it (which verification then catches).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
