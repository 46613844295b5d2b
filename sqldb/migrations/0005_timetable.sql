-- ipdesk schema, version 5: bell schedule, lessons, overrides, room policies, logbook (issue: timetable blocking).
-- Days are TEXT 'YYYY-MM-DD' (they sort and compare like the dates); times
-- of day are minutes after midnight in the school's time zone; instants
-- are Unix microseconds. Lessons, overrides and policies belong to a room
-- (a location of kind room) and go with it. The logbook keeps the rooms
-- as they were named at the switch (JSON arrays of {"id", "name"});
-- logbook_rooms indexes the rooms each entry blocked or opened.

CREATE TABLE periods (
	number       INTEGER PRIMARY KEY,
	start_minute INTEGER NOT NULL,
	end_minute   INTEGER NOT NULL,
	version      BIGINT NOT NULL DEFAULT 1,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);

CREATE TABLE holidays (
	id         {id},
	name       TEXT NOT NULL,
	first_day  TEXT NOT NULL,
	last_day   TEXT NOT NULL,
	version    BIGINT NOT NULL DEFAULT 1,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX holidays_days ON holidays (last_day, first_day);

CREATE TABLE lessons (
	id           {id},
	room_id      BIGINT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
	day          TEXT NOT NULL,
	first_period INTEGER NOT NULL,
	last_period  INTEGER NOT NULL,
	course       TEXT NOT NULL DEFAULT '',
	teacher      TEXT NOT NULL DEFAULT '',
	version      BIGINT NOT NULL DEFAULT 1,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX lessons_room_day ON lessons (room_id, day, first_period);
CREATE INDEX lessons_day ON lessons (day, room_id);

CREATE TABLE overrides (
	id         {id},
	room_id    BIGINT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
	day        TEXT NOT NULL,
	period     INTEGER NOT NULL,
	blocked    {bool} NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX overrides_slot ON overrides (room_id, day, period);
CREATE INDEX overrides_day ON overrides (day);

CREATE TABLE now_overrides (
	room_id    BIGINT PRIMARY KEY REFERENCES locations (id) ON DELETE CASCADE,
	blocked    {bool} NOT NULL,
	starts_at  BIGINT NOT NULL,
	ends_at    BIGINT NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL
);

CREATE TABLE room_policies (
	room_id    BIGINT PRIMARY KEY REFERENCES locations (id) ON DELETE CASCADE,
	policy     TEXT NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	version    BIGINT NOT NULL DEFAULT 1,
	updated_by TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE logbook (
	id           {id},
	time         BIGINT NOT NULL,
	actor        TEXT NOT NULL,
	blocked_json TEXT NOT NULL,
	opened_json  TEXT NOT NULL,
	state_json   TEXT NOT NULL,
	error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX logbook_time ON logbook (time);
CREATE INDEX logbook_actor ON logbook (actor, id);

CREATE TABLE logbook_rooms (
	room_id  BIGINT NOT NULL,
	entry_id BIGINT NOT NULL REFERENCES logbook (id) ON DELETE CASCADE,
	PRIMARY KEY (room_id, entry_id)
);
