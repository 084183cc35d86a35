-- One row per row of an input whose key value appears more than once. {relation} and {key} are quoted
-- identifiers taken from the data contract, never from a user.
select rowid as row_id
from {relation}
qualify count(*) over (partition by {key}) > 1
