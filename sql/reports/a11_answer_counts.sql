-- One row per collection detail (service, channel, trust wording and scale), question and answer in
-- fiscal quarter $fiscal_quarter: how many respondents gave the answer (`answers`) and how many
-- answered the question or were shown the driver (`answered`). Five-point items answer '1'..'5';
-- thumbs trust answers 'up' or 'down'; the v2 checklists ('went_well', 'could_improve') answer with
-- the driver selected. A respondent saw the trust question its collection words; an answer-count row
-- carries its own wording (the wording of the trust counts beside it, for the other items).
with quarter_responses as (
    select * from stg_responses
    where fiscal_quarter = $fiscal_quarter
),

collections as (
    select service, channel, trust_question_text
    from stg_collections
    where fiscal_quarter = $fiscal_quarter
),

counted_wording as (
    select service, channel, min(question_text) as question_text
    from quarter_responses
    where row_kind = 'answer_count' and trust is not null
    group by all
),

responses as (
    select
        quarter_responses.*,
        {
            'service': quarter_responses.service,
            'channel': quarter_responses.channel,
            'trust_question_text': case
                when quarter_responses.row_kind = 'answer_count' and quarter_responses.trust is not null
                    then quarter_responses.question_text
                else coalesce(collections.trust_question_text, counted_wording.question_text)
            end,
            'survey_type': case when quarter_responses.trust_scale = 'thumbs' then 'thumbs_up_down' else 'likert_scale' end
        } as detail
    from quarter_responses
    left join collections
        on quarter_responses.service = collections.service and quarter_responses.channel = collections.channel
    left join counted_wording
        on quarter_responses.service = counted_wording.service and quarter_responses.channel = counted_wording.channel
),

items as (
    select
        detail,
        weight,
        case when trust_scale = 'five_point' then trust end as trust,
        satisfaction,
        effectiveness,
        ease,
        efficiency,
        transparency,
        employee,
        humanity
    from responses
),

item_answers as (
    unpivot items
    on trust, satisfaction, effectiveness, ease, efficiency, transparency, employee, humanity
    into name question value answer
),

thumbs as (
    select
        detail,
        weight,
        'trust_thumbs' as question,
        case when trust = 1 then 'up' else 'down' end as answer
    from responses
    where trust_scale = 'thumbs'
        and trust is not null
),

checklists as (
    select
        detail,
        weight,
        positive_effectiveness as went_well_effectiveness,
        positive_ease as went_well_ease,
        positive_efficiency as went_well_efficiency,
        positive_transparency as went_well_transparency,
        positive_humanity as went_well_humanity,
        positive_employee as went_well_employee,
        positive_other as went_well_other,
        negative_effectiveness as could_improve_effectiveness,
        negative_ease as could_improve_ease,
        negative_efficiency as could_improve_efficiency,
        negative_transparency as could_improve_transparency,
        negative_humanity as could_improve_humanity,
        negative_employee as could_improve_employee,
        negative_other as could_improve_other
    from responses
),

checklist_cells as (
    unpivot checklists
    on columns(* exclude (detail, weight))
    into name cell value selected
),

drivers as (
    select
        detail,
        weight,
        selected,
        case when cell like 'went_well_%' then 'went_well' else 'could_improve' end as question,
        regexp_replace(cell, '^(went_well|could_improve)_', '') as answer
    from checklist_cells
),

counted as (
    select
        detail,
        question,
        cast(answer as varchar) as answer,
        sum(weight) as answers,
        cast(null as hugeint) as shown
    from item_answers
    group by all
    union all
    select
        detail,
        question,
        answer,
        sum(weight) as answers,
        cast(null as hugeint) as shown
    from thumbs
    group by all
    union all
    select
        detail,
        question,
        answer,
        sum(weight * selected) as answers,
        -- A driver's denominator is the respondents shown it, not everyone who saw the checklist.
        sum(weight) as shown
    from drivers
    group by all
)

select
    detail.service as service,
    detail.channel as channel,
    detail.trust_question_text as trust_question_text,
    detail.survey_type as survey_type,
    question,
    answer,
    cast(answers as bigint) as answers,
    cast(coalesce(shown, sum(answers) over (partition by detail, question)) as bigint) as answered
from counted
order by service, channel, trust_question_text, survey_type, question, answer
