-- ipdesk schema, version 9: directory users (issue 13).
-- users.directory is '' for a local account with a password, or the
-- directory the user signs in with ('ldap', 'oidc'); such users have an
-- empty password_hash, which no password matches.

ALTER TABLE users ADD COLUMN directory TEXT NOT NULL DEFAULT '';
