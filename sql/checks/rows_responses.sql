-- One row per row and rule across columns of the responses input that the row breaks, with its value.
-- {relation} is the input's table, quoted (and qualified by its database) by the code.
with source as (
    select rowid as row_id, * from {relation}
),

broken as (
    select
        row_id,
        'trust' as column_name,
        cast(trust as varchar) as bad_value,
        'is not 0 or 1 on the thumbs scale' as rule
    from source
    where trust_scale = 'thumbs' and trust not in (0, 1)
    union all
    select
        row_id,
        'trust' as column_name,
        cast(trust as varchar) as bad_value,
        'is outside 1-5 on the five_point scale' as rule
    from source
    where trust_scale = 'five_point' and trust not between 1 and 5
    union all
    select
        row_id,
        'row_kind' as column_name,
        row_kind as bad_value,
        'must count answers to exactly one A-11 item on the five-point scale, with its question_text' as rule
    from source
    where row_kind = 'answer_count'
        and (
            trust_scale <> 'five_point'
            or question_text is null
            or (trust is not null)::int + (satisfaction is not null)::int + (effectiveness is not null)::int
            + (ease is not null)::int + (efficiency is not null)::int + (transparency is not null)::int
            + (employee is not null)::int + (humanity is not null)::int <> 1
            or coalesce(
                positive_effectiveness, positive_ease, positive_efficiency, positive_transparency,
                positive_humanity, positive_employee, positive_other, negative_effectiveness, negative_ease,
                negative_efficiency, negative_transparency, negative_humanity, negative_employee, negative_other
            ) is not null
        )
)

select
    row_id,
    column_name,
    bad_value,
    rule
from broken
