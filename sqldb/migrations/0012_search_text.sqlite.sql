-- The search index keeps no positions (detail=none): a substring query is
-- a GLOB, which the trigrams narrow to the rows that hold all of them and
-- SQLite then checks, and every write of an address updates an index less
-- than half the size. Segments merge eight at a time instead of four, so
-- each entry is rewritten on fewer levels. Writes note the addresses
-- whose text changed in address_search_pending, and ipdesk moves them
-- into the index a batch at a time. ipdesk then rewrites every search
-- text (a MAC as its hex digits only) and fills the index.
DROP TABLE address_search;
CREATE VIRTUAL TABLE address_search USING fts5(search, tokenize = 'trigram', detail = 'none');
INSERT INTO address_search (address_search, rank) VALUES ('automerge', 8);
CREATE TABLE address_search_pending (id INTEGER PRIMARY KEY);
