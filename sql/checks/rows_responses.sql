-- One row per rule across columns of the responses input that some rows break, with an example.
with source as (
    select * from raw_responses
),

broken as (
    select
        'trust' as column_name,
        cast(trust as varchar) as bad_value,
        'is not 0 or 1 on the thumbs scale' as rule
    from source
    where trust_scale = 'thumbs' and trust not in (0, 1)
    union all
    select
        'trust' as column_name,
        cast(trust as varchar) as bad_value,
        'is outside 1-5 on the five_point scale' as rule
    from source
    where trust_scale = 'five_point' and trust not between 1 and 5
)

select
    column_name,
    bad_value,
    rule,
    count(*) as row_count
from broken
group by all
order by row_count desc, column_name, bad_value
