-- ipdesk schema, version 6: caller-ID calls and their events (issue: caller-ID).
--
-- Phone lookups: the digits of stored phone numbers, reversed, so that "the
-- stored number ends with these digits" (an extension calling a room stored
-- in full) is a range scan on an index. ipdesk keeps them in step with the
-- digits; existing rows are filled here by the same reversal in SQL.
ALTER TABLE location_phones ADD COLUMN digits_rev TEXT NOT NULL DEFAULT '';
ALTER TABLE addresses ADD COLUMN phone_digits_rev TEXT NOT NULL DEFAULT '';
UPDATE location_phones SET digits_rev = (WITH RECURSIVE rev(i, s) AS (
	SELECT length(location_phones.digits), CAST('' AS TEXT)
	UNION ALL SELECT i - 1, s || substr(location_phones.digits, i, 1) FROM rev WHERE i > 0
) SELECT s FROM rev WHERE i = 0);
UPDATE addresses SET phone_digits_rev = (WITH RECURSIVE rev(i, s) AS (
	SELECT length(addresses.phone_digits), CAST('' AS TEXT)
	UNION ALL SELECT i - 1, s || substr(addresses.phone_digits, i, 1) FROM rev WHERE i > 0
) SELECT s FROM rev WHERE i = 0) WHERE phone_digits <> '';
CREATE INDEX location_phones_digits_rev ON location_phones (digits_rev);
CREATE INDEX addresses_phone_digits_rev ON addresses (phone_digits_rev) WHERE phone_digits_rev <> '';

-- One row per call. pbx_call_id joins the events of a call ('' for the
-- one-event calls of GET /set_call). Numbers are kept as given (raw,
-- bounded, valid UTF-8) and normalised; matches_json is what the call
-- matched at the time (rooms, people, hosts), search its lower-cased text
-- for the call log's search. Times are Unix microseconds. Ids are {serial}:
-- never reused, as the event ids of the live stream must not be.
CREATE TABLE calls (
	id           {serial},
	pbx_call_id  TEXT NOT NULL DEFAULT '',
	started      BIGINT NOT NULL,
	updated      BIGINT NOT NULL,
	state        TEXT NOT NULL,
	from_raw     TEXT NOT NULL,
	from_number  TEXT NOT NULL,
	from_kind    TEXT NOT NULL,
	to_raw       TEXT NOT NULL DEFAULT '',
	to_number    TEXT NOT NULL DEFAULT '',
	to_kind      TEXT NOT NULL DEFAULT 'unknown',
	extension    TEXT NOT NULL DEFAULT '',
	source       TEXT NOT NULL DEFAULT '',
	match_kind   TEXT NOT NULL,
	matches_json TEXT NOT NULL,
	search       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calls_started ON calls (started);
CREATE INDEX calls_pbx_call_id ON calls (pbx_call_id, started) WHERE pbx_call_id <> '';
CREATE INDEX calls_state ON calls (state, started);

-- One row per reported event. Its id is the event id of the live stream:
-- writers take a lock so that ids are committed in order, and a reader
-- that follows the last id it saw misses none.
CREATE TABLE call_events (
	id        {serial},
	call_id   BIGINT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	time      BIGINT NOT NULL,
	kind      TEXT NOT NULL,
	state     TEXT NOT NULL,
	extension TEXT NOT NULL DEFAULT '',
	source    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX call_events_call ON call_events (call_id, id);
