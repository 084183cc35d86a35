-- One row per v2 respondent of fiscal quarter $fiscal_quarter, in Touchpoints' respondent format:
-- question_1 the trust answer, the went-well (positive_*) and could-improve (negative_*) checklists as
-- 1 selected, 0 not selected, empty not offered. The open comment is not exported.
with responses as (
    select * from stg_responses
    where fiscal_quarter = $fiscal_quarter
        and row_kind = 'respondent'
        and survey_version = 'v2'
),

collections as (
    select service, channel, transaction_point
    from stg_collections
    where fiscal_quarter = $fiscal_quarter
)

select
    responses.service as service_name,
    responses.channel as channel,
    collections.transaction_point as transaction_point,
    responses.response_id as external_id,
    responses.trust as question_1,
    responses.positive_effectiveness,
    responses.positive_ease,
    responses.positive_efficiency,
    responses.positive_transparency,
    responses.positive_humanity,
    responses.positive_employee,
    responses.positive_other,
    responses.negative_effectiveness,
    responses.negative_ease,
    responses.negative_efficiency,
    responses.negative_transparency,
    responses.negative_humanity,
    responses.negative_employee,
    responses.negative_other,
    cast(null as varchar) as question_4
from responses
left join collections
    on responses.service = collections.service and responses.channel = collections.channel
order by service_name, channel, external_id
