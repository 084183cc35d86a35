-- One row per key value that appears more than once in an input, with how many times. {relation}
-- and {key} are quoted identifiers taken from the data contract, never from a user. Kept as the
-- temporary table duplicate_keys, which duplicate_rows.sql and summary_keys.sql read.
select
    {key} as key_value,
    count(*) as row_count
from {relation}
group by {key}
having count(*) > 1
