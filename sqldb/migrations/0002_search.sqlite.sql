-- Substring search over addresses (?q=) on a trigram index: the FTS5
-- table holds each address's search text under the address id and is kept
-- in step by ipdesk in the same transaction as the address.
CREATE VIRTUAL TABLE address_search USING fts5(search, tokenize = 'trigram');
INSERT INTO address_search (rowid, search) SELECT id, search FROM addresses;
