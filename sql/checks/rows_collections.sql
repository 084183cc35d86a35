-- One row per row and rule across columns of the collections input that the row breaks, with its value.
-- {relation} is the input's table, quoted (and qualified by its database) by the code.
with source as (
    select rowid as row_id, * from {relation}
),

broken as (
    select
        row_id,
        'customers_offered' as column_name,
        cast(customers_offered as varchar) as bad_value,
        'is more than customers_served (' || cast(customers_served as varchar) || ')' as rule
    from source
    where customers_offered > customers_served
)

select
    row_id,
    column_name,
    bad_value,
    rule
from broken
