-- A write made for a request whose credentials and permissions a server
-- took from its cache, filled at authentication epoch expected, runs this
-- first in its transaction: it fails, and with it the write, when the
-- epoch moved on since (see ipdesk.AuthGuard), so that such a request
-- needs no read of the epoch of its own.
CREATE FUNCTION ipdesk_auth_epoch_is(expected BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM auth_epoch WHERE id = 1 AND epoch = expected) THEN
		RAISE EXCEPTION 'the authentication epoch is no longer %', expected USING ERRCODE = 'IP001';
	END IF;
END
$$;
