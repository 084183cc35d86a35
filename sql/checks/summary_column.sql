-- The most frequent problems of each column among the rows the column checks found (checked_rows):
-- at most 5 rows per column, one per problem and value, with how many rows have it.
select
    column_number,
    problem,
    bad_value,
    count(*) as row_count
from checked_rows
group by column_number, problem, bad_value
qualify row_number() over (partition by column_number order by count(*) desc, bad_value) <= 5
order by column_number, row_count desc, bad_value
