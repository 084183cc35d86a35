-- One row per row of an input whose value in one column breaks the data contract: the row's id, the
-- problem and the value. {relation} and {column} are quoted identifiers taken from the data contract,
-- never from a user; the rules themselves arrive as bound parameters, named for the column's place
-- {n} among those checked (the checks of every column of an input run as one statement).
with source as (
    select rowid as row_id, {column} as checked_value from {relation}
),

judged as (
    select
        row_id,
        checked_value,
        case
            when checked_value is null then
                case when not $nullable{n} then 'null' end
            when $check_allowed{n} and not list_contains($allowed{n}, cast(checked_value as varchar)) then 'not_allowed'
            when try_cast(checked_value as double) < $minimum{n} then 'below_minimum'
            when try_cast(checked_value as double) > $maximum{n} then 'above_maximum'
            when $whole{n} and try_cast(checked_value as double) <> round(try_cast(checked_value as double)) then 'not_whole'
            when $max_length{n} is not null and length(cast(checked_value as varchar)) > $max_length{n} then 'too_long'
            when $latest{n} is not null and try_cast(checked_value as timestamp) > $latest{n} then 'future'
        end as problem
    from source
)

select
    {n} as column_number,
    row_id,
    problem,
    cast(checked_value as varchar) as bad_value
from judged
where problem is not null
