-- Hotline-to-hotline referrals between Vigil instances (issue 16).

-- Partner hotlines: where referrals go and whose referrals are accepted.
-- api_key is our key at the partner, sealed (see internal/store/seal.go).
CREATE TABLE partners (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	countries TEXT NOT NULL,
	base_url TEXT NOT NULL DEFAULT '',
	public_key TEXT NOT NULL,
	api_key TEXT NOT NULL DEFAULT '',
	age_recipient TEXT NOT NULL DEFAULT '',
	accept_baseline INTEGER NOT NULL,
	accept_national INTEGER NOT NULL,
	send_media INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

-- Referrals received: one per partner and its case reference, so that a
-- referral sent again is the same case. partner is a name, not a key: a
-- partner removed later leaves its referrals on the record.
CREATE TABLE referrals_in (
	id INTEGER PRIMARY KEY,
	partner TEXT NOT NULL,
	their_ref TEXT NOT NULL,
	report_id INTEGER NOT NULL REFERENCES reports (id),
	body TEXT NOT NULL,
	body_sha256 TEXT NOT NULL,
	received_at INTEGER NOT NULL,
	UNIQUE (partner, their_ref)
) STRICT;

-- Nonces of signed requests seen, per partner: a request replayed within
-- the timestamp window is refused. Older ones are pruned.
CREATE TABLE referral_nonces (
	partner TEXT NOT NULL,
	nonce TEXT NOT NULL,
	seen_at INTEGER NOT NULL,
	PRIMARY KEY (partner, nonce)
) STRICT;
CREATE INDEX referral_nonces_seen ON referral_nonces (seen_at);

-- Status of referrals: direction 'in' is what a partner told us of a
-- referral we sent (case_ref ours); 'out' is what we tell the referring
-- partner (case_ref theirs), sent once through state as outbound messages
-- are.
CREATE TABLE referral_status (
	id INTEGER PRIMARY KEY,
	direction TEXT NOT NULL,
	partner TEXT NOT NULL,
	case_ref TEXT NOT NULL,
	status TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	at INTEGER NOT NULL,
	state TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	recorded_at INTEGER NOT NULL,
	UNIQUE (direction, partner, case_ref, status)
) STRICT;
