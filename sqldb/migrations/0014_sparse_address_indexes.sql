-- An address without a location, or without a MAC, no longer costs an
-- entry in the index on that column: no query looks for the addresses
-- that lack one by it, and every create paid for a page of such entries.
-- The index on phone_digits served no query (calls match by
-- phone_digits_rev) and goes.
DROP INDEX addresses_phone;
DROP INDEX addresses_location;
CREATE INDEX addresses_location ON addresses (location_id) WHERE location_id IS NOT NULL;
DROP INDEX addresses_mac;
CREATE INDEX addresses_mac ON addresses (mac) WHERE mac <> '';
