-- An allocation that takes its subnet's state from an earlier transaction
-- of its server (the mark of full chunks, the used count of the mark's
-- chunk and the highest used address in it, the subnet's version) runs
-- this first: it takes the subnet's row lock, as every writer of the
-- subnet's addresses does, and fails, and with it the write, unless the
-- subnet is still in that state, so that the allocation needs no read of
-- its own (the write then runs again, reading).
CREATE FUNCTION ipdesk_subnet_is(subnet BIGINT, expected_version BIGINT, mark BYTEA, expected_used BIGINT, expected_top BYTEA)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	-- The lock first, in a statement of its own: the check after it reads
	-- with a snapshot taken once the lock is held, and so sees what the
	-- subnet's writer before committed.
	PERFORM 1 FROM prefixes WHERE id = subnet FOR UPDATE;
	PERFORM 1 FROM prefixes p JOIN subnet_fill f ON f.prefix_id = p.id
	WHERE p.id = subnet AND p.version = expected_version AND f.full_below = mark
		AND COALESCE((SELECT c.used FROM address_chunks c WHERE c.prefix_id = subnet AND c.chunk_key = mark), 0) = expected_used
		AND (SELECT a.ip_key FROM addresses a WHERE a.prefix_id = subnet AND a.ip_key >= mark
			AND a.ip_key <= overlay(mark placing '\xff'::bytea from 16) ORDER BY a.ip_key DESC LIMIT 1) IS NOT DISTINCT FROM expected_top;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'subnet % changed since this server last allocated from it', subnet USING ERRCODE = 'IP002';
	END IF;
END
$$;
