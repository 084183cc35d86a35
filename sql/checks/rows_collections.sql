-- One row per rule across columns of the collections input that some rows break, with an example.
with source as (
    select * from raw_collections
),

broken as (
    select
        'customers_offered' as column_name,
        cast(customers_offered as varchar) as bad_value,
        'is more than customers_served (' || cast(customers_served as varchar) || ')' as rule
    from source
    where customers_offered > customers_served
)

select
    column_name,
    bad_value,
    rule,
    count(*) as row_count
from broken
group by all
order by row_count desc, column_name, bad_value
