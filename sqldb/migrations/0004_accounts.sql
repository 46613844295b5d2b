-- ipdesk schema, version 4: groups, group members, grants, sessions (issue: web UI and accounts).
-- Users get rights only through their groups (IPplan's model); a grant
-- gives one group one right on a space, a prefix or a location. Sessions
-- keep a SHA-256 hash of the browser's cookie secret, never the secret.
-- users.language is the user's chosen UI language ('' follows the
-- browser).

CREATE TABLE user_groups (
	id            {id},
	name          TEXT NOT NULL,
	description   TEXT NOT NULL DEFAULT '',
	create_spaces {bool} NOT NULL DEFAULT FALSE,
	view_all      {bool} NOT NULL DEFAULT FALSE,
	helpdesk      {bool} NOT NULL DEFAULT FALSE,
	version       BIGINT NOT NULL DEFAULT 1,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_groups_name ON user_groups (name);

CREATE TABLE group_members (
	group_id BIGINT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
	user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE grants (
	id          {id},
	group_id    BIGINT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
	object_type TEXT NOT NULL,
	object_id   BIGINT NOT NULL,
	right_name  TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX grants_group_object ON grants (group_id, object_type, object_id);
CREATE INDEX grants_object ON grants (object_type, object_id);

CREATE TABLE sessions (
	id          {id},
	user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	secret_hash {blob} NOT NULL,
	created_at  BIGINT NOT NULL,
	last_seen   BIGINT NOT NULL,
	remote      TEXT NOT NULL DEFAULT '',
	user_agent  TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_secret ON sessions (secret_hash);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
