-- PostgreSQL checks an address's subnet and space with one foreign key
-- from this version on. SQLite keeps its two: changing a key means
-- rebuilding the table there, and its checks cost no round trip.
SELECT 1;
