-- ipdesk schema, version 1.
-- Tokens in braces are replaced per database: {id} (an auto-numbered
-- primary key), {blob} (bytes), {bool}.
-- Addresses are stored as 16-byte big-endian keys (IPv4 mapped into
-- ::ffff:0:0/96) that compare like the addresses, so range queries and
-- "first free" run on an index. Times are Unix microseconds. The search
-- columns hold lower-cased text made by ipdesk (SQLite's LOWER() folds
-- ASCII only).

CREATE TABLE spaces (
	id          {id},
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	prefix_gen  BIGINT NOT NULL DEFAULT 0,
	version     BIGINT NOT NULL DEFAULT 1,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX spaces_name ON spaces (name);

CREATE TABLE prefixes (
	id          {id},
	space_id    BIGINT NOT NULL REFERENCES spaces (id),
	parent_id   BIGINT NOT NULL DEFAULT 0,
	bits        INTEGER NOT NULL,
	first_key   {blob} NOT NULL,
	last_key    {blob} NOT NULL,
	prefix      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	gateway     TEXT NOT NULL DEFAULT '',
	dhcp        {bool} NOT NULL DEFAULT FALSE,
	vlan        INTEGER NOT NULL DEFAULT 0,
	search      TEXT NOT NULL DEFAULT '',
	version     BIGINT NOT NULL DEFAULT 1,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX prefixes_space_key ON prefixes (space_id, first_key, bits);
CREATE INDEX prefixes_parent ON prefixes (space_id, parent_id, first_key);
CREATE INDEX prefixes_first ON prefixes (first_key);

CREATE TABLE locations (
	id               {id},
	parent_id        BIGINT NOT NULL DEFAULT 0,
	kind             TEXT NOT NULL,
	name             TEXT NOT NULL,
	hostname_pattern TEXT NOT NULL DEFAULT '',
	description      TEXT NOT NULL DEFAULT '',
	search           TEXT NOT NULL DEFAULT '',
	version          BIGINT NOT NULL DEFAULT 1,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX locations_parent_name ON locations (parent_id, name);

CREATE TABLE location_phones (
	location_id BIGINT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
	position    INTEGER NOT NULL,
	phone       TEXT NOT NULL,
	digits      TEXT NOT NULL,
	PRIMARY KEY (location_id, position)
);
CREATE INDEX location_phones_digits ON location_phones (digits);

CREATE TABLE access_levels (
	level       INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	version     BIGINT NOT NULL DEFAULT 1,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);

CREATE TABLE addresses (
	id               {id},
	space_id         BIGINT NOT NULL REFERENCES spaces (id),
	prefix_id        BIGINT NOT NULL REFERENCES prefixes (id),
	ip_key           {blob} NOT NULL,
	address          TEXT NOT NULL,
	status           TEXT NOT NULL,
	mac              TEXT NOT NULL DEFAULT '',
	hostname         TEXT NOT NULL DEFAULT '',
	hostname_lc      TEXT NOT NULL DEFAULT '',
	description      TEXT NOT NULL DEFAULT '',
	owner            TEXT NOT NULL DEFAULT '',
	phone            TEXT NOT NULL DEFAULT '',
	phone_digits     TEXT NOT NULL DEFAULT '',
	location_id      BIGINT REFERENCES locations (id),
	access_level     INTEGER NOT NULL DEFAULT 0 REFERENCES access_levels (level),
	dhcp_reservation {bool} NOT NULL DEFAULT FALSE,
	search           TEXT NOT NULL DEFAULT '',
	version          BIGINT NOT NULL DEFAULT 1,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX addresses_space_ip ON addresses (space_id, ip_key);
CREATE UNIQUE INDEX addresses_prefix_mac ON addresses (prefix_id, mac) WHERE mac <> '';
CREATE INDEX addresses_prefix_ip ON addresses (prefix_id, ip_key);
CREATE INDEX addresses_ip ON addresses (ip_key);
CREATE INDEX addresses_mac ON addresses (mac);
CREATE INDEX addresses_hostname ON addresses (hostname_lc);
CREATE INDEX addresses_location ON addresses (location_id);
CREATE INDEX addresses_phone ON addresses (phone_digits);

-- Used addresses per chunk of 256 keys, kept in step with addresses by
-- ipdesk, so that "first free" skips full chunks without reading them.
CREATE TABLE address_chunks (
	prefix_id BIGINT NOT NULL,
	chunk_key {blob} NOT NULL,
	used      INTEGER NOT NULL,
	PRIMARY KEY (prefix_id, chunk_key)
);

CREATE TABLE users (
	id            {id},
	name          TEXT NOT NULL,
	full_name     TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	admin         {bool} NOT NULL DEFAULT FALSE,
	disabled      {bool} NOT NULL DEFAULT FALSE,
	version       BIGINT NOT NULL DEFAULT 1,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_name ON users (name);

CREATE TABLE api_tokens (
	id           {id},
	user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash   {blob} NOT NULL,
	description  TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);

CREATE TABLE audit_log (
	id          {id},
	time        BIGINT NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id   BIGINT NOT NULL,
	before_json TEXT,
	after_json  TEXT
);
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_actor ON audit_log (actor, time);
