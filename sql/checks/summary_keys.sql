-- The most repeated key values of an input (duplicate_keys.sql), for its messages.
select
    cast(key_value as varchar) as bad_value,
    row_count
from duplicate_keys
order by row_count desc, bad_value
limit 5
