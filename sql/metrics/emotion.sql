-- label: Emotion
-- description: Product choice: the humanity item ("I was treated fairly and with respect"), or employee helpfulness where humanity was not answered. Share answering 4 or 5 out of respondents with either answer; the mean of the 1-5 answers comes alongside. Aggregated answer counts say nothing of who answered what, so their employee counts are used only for a service, channel and quarter with no humanity counts.
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Emotion
-- owner: Office of Customer Experience
-- aggregate: share
-- target: 0.80

-- One row per respondent who answered humanity or, failing that, employee helpfulness (or per
-- aggregated count of such answers).
with answers as (
    select
        *,
        coalesce(humanity, employee) as emotion_answer
    from stg_responses
),

humanity_counted as (
    select distinct
        service,
        channel,
        fiscal_quarter
    from stg_responses
    where row_kind = 'answer_count'
        and humanity is not null
),

chosen as (
    select answers.*
    from answers
    left join humanity_counted
        on answers.service = humanity_counted.service
        and answers.channel = humanity_counted.channel
        and answers.fiscal_quarter = humanity_counted.fiscal_quarter
    where answers.emotion_answer is not null
        and not (
            answers.row_kind = 'answer_count'
            and answers.humanity is null
            and humanity_counted.service is not null
        )
)

select
    *,
    case when emotion_answer >= 4 then 1 else 0 end as value,
    emotion_answer as score
from chosen
