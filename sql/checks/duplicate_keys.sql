-- One row per key value that appears more than once in an input. {relation} and {key} are quoted
-- identifiers taken from the data contract, never from a user.
select
    cast({key} as varchar) as bad_value,
    count(*) as row_count
from {relation}
group by {key}
having count(*) > 1
order by row_count desc, bad_value
limit 5
