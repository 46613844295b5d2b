-- PostgreSQL only (its writes check the authentication epoch a request
-- was let in at, see ipdesk.AuthGuard); SQLite reads the epoch in
-- process, at no cost worth saving.
SELECT 1;
