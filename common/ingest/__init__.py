"""Taking a shop's own rows of thelook's tables in: contracts, reading, checking, the key index and
the exactly-once commit of a batch (batches.py)."""
