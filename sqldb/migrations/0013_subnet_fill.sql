-- Where "first free" starts to look in a subnet: every chunk of addresses
-- (see address_chunks) that starts before full_below is full. Without it
-- an allocation in a large subnet filled from the bottom read the count of
-- every full chunk before the first free address. Allocations move it up,
-- and a chunk that loses an address moves it down; a subnet without a row
-- is looked at from its start.
CREATE TABLE subnet_fill (
	prefix_id  BIGINT NOT NULL PRIMARY KEY,
	full_below {blob} NOT NULL
);
