-- The most frequent problems among the rows one column check found (checked_rows): one row per
-- problem and value, with how many rows have it.
select
    problem,
    bad_value,
    count(*) as row_count
from checked_rows
group by all
order by row_count desc, bad_value
limit 5
