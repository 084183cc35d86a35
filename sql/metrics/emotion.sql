-- label: Emotion
-- description: Product choice: the humanity item ("I was treated fairly and with respect"), or employee helpfulness where humanity was not answered. Share answering 4 or 5 out of respondents with either answer; the mean of the 1-5 answers comes alongside.
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Emotion
-- owner: Office of Customer Experience
-- aggregate: share
-- target: 0.80

-- One row per respondent who answered humanity or, failing that, employee helpfulness.
with answers as (
    select
        *,
        coalesce(humanity, employee) as emotion_answer
    from stg_responses
)

select
    *,
    case when emotion_answer >= 4 then 1 else 0 end as value,
    emotion_answer as score
from answers
where emotion_answer is not null
