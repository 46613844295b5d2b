-- The authentication epoch: one number that every committed change to who
-- may do what moves on (users, groups, memberships, grants, API tokens, the
-- end of a session), whichever instance made it. A server caches tokens,
-- sessions and permissions and reads this one row per request: the cache
-- is good while the number is the one it was filled at.
CREATE TABLE auth_epoch (
	id    BIGINT PRIMARY KEY,
	epoch BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);
CREATE FUNCTION ipdesk_bump_auth_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
	RETURN NULL;
END
$$;
CREATE TRIGGER auth_epoch_users AFTER UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION ipdesk_bump_auth_epoch();
CREATE TRIGGER auth_epoch_groups AFTER UPDATE OR DELETE ON user_groups FOR EACH ROW EXECUTE FUNCTION ipdesk_bump_auth_epoch();
CREATE TRIGGER auth_epoch_members AFTER INSERT OR UPDATE OR DELETE ON group_members FOR EACH ROW EXECUTE FUNCTION ipdesk_bump_auth_epoch();
CREATE TRIGGER auth_epoch_grants AFTER INSERT OR UPDATE OR DELETE ON grants FOR EACH ROW EXECUTE FUNCTION ipdesk_bump_auth_epoch();
-- A token's last use is bookkeeping, not a change of rights.
CREATE TRIGGER auth_epoch_tokens AFTER UPDATE OF user_id, token_hash OR DELETE ON api_tokens FOR EACH ROW EXECUTE FUNCTION ipdesk_bump_auth_epoch();
-- A session's last use likewise; its end is.
CREATE TRIGGER auth_epoch_sessions AFTER UPDATE OF user_id, secret_hash, created_at OR DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION ipdesk_bump_auth_epoch();
