-- Substring search over addresses (?q=) on a trigram index. pg_trgm ships
-- with PostgreSQL; where the database user may not create the extension,
-- ipdesk still works and the search scans the table.
DO $$
BEGIN
	CREATE EXTENSION IF NOT EXISTS pg_trgm;
	CREATE INDEX addresses_search_trgm ON addresses USING gin (search gin_trgm_ops);
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
	RAISE NOTICE 'pg_trgm is not available: substring search scans the addresses table';
END
$$;
