-- PostgreSQL only (an allocation there may take its subnet's state from
-- an earlier transaction and check it with its insert); SQLite reads the
-- subnet in process, at no cost worth saving.
SELECT 1;
