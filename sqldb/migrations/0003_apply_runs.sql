-- ipdesk schema, version 3: the history of config output applies.
-- One row per run of one target (a squid-levels target is one target per
-- level). started is Unix microseconds, duration nanoseconds; message holds
-- the daemon's own output on failure (valid UTF-8 without NUL); bytes,
-- added and removed summarise the rendered file and its diff; actor is the
-- user who asked for the run, or "system".

CREATE TABLE apply_runs (
	id       {id},
	target   TEXT NOT NULL,
	kind     TEXT NOT NULL,
	path     TEXT NOT NULL,
	started  BIGINT NOT NULL,
	duration BIGINT NOT NULL,
	status   TEXT NOT NULL,
	message  TEXT NOT NULL DEFAULT '',
	bytes    BIGINT NOT NULL DEFAULT 0,
	added    INTEGER NOT NULL DEFAULT 0,
	removed  INTEGER NOT NULL DEFAULT 0,
	actor    TEXT NOT NULL
);
CREATE INDEX apply_runs_target ON apply_runs (target, id);
CREATE INDEX apply_runs_started ON apply_runs (started);
CREATE INDEX apply_runs_status ON apply_runs (status, id);
