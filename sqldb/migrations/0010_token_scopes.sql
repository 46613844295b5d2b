-- ipdesk schema, version 10: API token scopes and expiry (issue 13).
-- scope is 'full', 'read' or 'pbx'; expires_at (microseconds since the
-- epoch) ends the token, NULL never.

ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
