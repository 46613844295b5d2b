-- ipdesk schema, version 11: two-factor sign-in with time-based one-time
-- passwords for local accounts (issue 13). users.totp_secret is the
-- base32 secret ('' while two-factor is off); totp_last_step is the time
-- step of the last code used, so that no code counts twice.

ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
