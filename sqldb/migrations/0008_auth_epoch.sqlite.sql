-- The authentication epoch: one number that every committed change to who
-- may do what moves on (users, groups, memberships, grants, API tokens, the
-- end of a session), whichever process made it. A server caches tokens,
-- sessions and permissions and reads this one row per request: the cache
-- is good while the number is the one it was filled at.
CREATE TABLE auth_epoch (
	id    INTEGER PRIMARY KEY,
	epoch BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);
CREATE TRIGGER auth_epoch_users_update AFTER UPDATE ON users BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_users_delete AFTER DELETE ON users BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_groups_update AFTER UPDATE ON user_groups BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_groups_delete AFTER DELETE ON user_groups BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_members_insert AFTER INSERT ON group_members BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_members_update AFTER UPDATE ON group_members BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_members_delete AFTER DELETE ON group_members BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_grants_insert AFTER INSERT ON grants BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_grants_update AFTER UPDATE ON grants BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_grants_delete AFTER DELETE ON grants BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- A token's last use is bookkeeping, not a change of rights.
CREATE TRIGGER auth_epoch_tokens_update AFTER UPDATE OF user_id, token_hash ON api_tokens BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_tokens_delete AFTER DELETE ON api_tokens BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- A session's last use likewise; its end is.
CREATE TRIGGER auth_epoch_sessions_update AFTER UPDATE OF user_id, secret_hash, created_at ON sessions BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_sessions_delete AFTER DELETE ON sessions BEGIN UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1; END;
