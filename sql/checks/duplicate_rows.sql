-- One row per row of an input whose key value appears more than once (in duplicate_keys, nearly
-- always empty, so this costs next to nothing: the repeated values are found by one grouping, where a
-- count over each key's rows took about as long again at 10M rows). {relation} and {key} are quoted
-- identifiers taken from the data contract, never from a user.
select input.rowid as row_id
from {relation} as input
semi join duplicate_keys on input.{key} is not distinct from duplicate_keys.key_value
