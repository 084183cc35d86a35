-- One row per service, survey channel, fiscal quarter and A-11 item: the question as worded and scaled.
-- The trust wording comes from collections; aggregated answer counts bring the wording of each item.
with collections as (
    select * from stg_collections
),

counted as (
    select * from stg_responses
    where row_kind = 'answer_count'
),

counted_items as (
    select
        service,
        channel,
        fiscal_quarter,
        case
            when trust is not null then 'trust'
            when satisfaction is not null then 'satisfaction'
            when effectiveness is not null then 'effectiveness'
            when ease is not null then 'ease'
            when efficiency is not null then 'efficiency'
            when transparency is not null then 'transparency'
            when employee is not null then 'employee'
            when humanity is not null then 'humanity'
        end as item,
        question_text,
        'likert_scale' as survey_type
    from counted
),

asked_in_collections as (
    select
        service,
        channel,
        fiscal_quarter,
        'trust' as item,
        trust_question_text as question_text,
        survey_type
    from collections
),

unioned as (
    select * from asked_in_collections
    union
    select * from counted_items
)

select
    service,
    channel,
    fiscal_quarter,
    item,
    question_text,
    survey_type
from unioned
