-- The most frequent rule breaks among the rows an input's row rules found (checked_rows): one row per
-- column, value and rule, with how many rows break it.
select
    column_name,
    bad_value,
    rule,
    count(*) as row_count
from checked_rows
group by all
order by row_count desc, column_name, bad_value
limit 5
