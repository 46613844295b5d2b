-- The search texts are rewritten by ipdesk after this migration (a MAC as
-- its hex digits only); the trigram index follows by itself.
SELECT 1;
