-- The trigram index of the search texts moves off the addresses table
-- into address_search, kept up to date by ipdesk in batches as on SQLite:
-- a write notes the address in address_search_pending, and the server
-- moves the noted rows into the index every few seconds. Inserting a row
-- into a GIN trigram index costs about as much as the rest of the row's
-- indexes together; an import of 100,000 hosts no longer waits for it.
-- A search takes the index's rows less the pending ones and checks the
-- pending rows' current text directly, so it stays exact meanwhile.
CREATE TABLE address_search (
	id     BIGINT PRIMARY KEY,
	search TEXT NOT NULL
);
CREATE TABLE address_search_pending (
	id BIGINT PRIMARY KEY
);
INSERT INTO address_search (id, search) SELECT id, search FROM addresses;
DROP INDEX IF EXISTS addresses_search_trgm;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
		CREATE INDEX address_search_trgm ON address_search USING gin (search gin_trgm_ops);
	END IF;
END
$$;
