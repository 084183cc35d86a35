-- One row per service, survey channel and fiscal quarter: the trust question as worded and scaled.
with collections as (
    select * from stg_collections
)

select
    service,
    channel,
    fiscal_quarter,
    trust_question_text,
    survey_type
from collections
