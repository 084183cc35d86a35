-- One row per survey respondent, or per aggregated count of one answer to one item (row_kind
-- 'answer_count'); typed, with its fiscal period and the respondents the row adds to respondent counts.
with source as (
    select * from raw_responses
),

typed as (
    select
        cast(response_id as varchar) as response_id,
        cast(submitted_at as timestamp) as submitted_at,
        cast(service as varchar) as service,
        cast(channel as varchar) as channel,
        cast(segment as varchar) as segment,
        cast(journey_stage as varchar) as journey_stage,
        cast(survey_version as varchar) as survey_version,
        cast(trust_scale as varchar) as trust_scale,
        cast(trust as tinyint) as trust,
        cast(satisfaction as tinyint) as satisfaction,
        cast(effectiveness as tinyint) as effectiveness,
        cast(ease as tinyint) as ease,
        cast(efficiency as tinyint) as efficiency,
        cast(transparency as tinyint) as transparency,
        cast(employee as tinyint) as employee,
        cast(humanity as tinyint) as humanity,
        cast(positive_effectiveness as tinyint) as positive_effectiveness,
        cast(positive_ease as tinyint) as positive_ease,
        cast(positive_efficiency as tinyint) as positive_efficiency,
        cast(positive_transparency as tinyint) as positive_transparency,
        cast(positive_humanity as tinyint) as positive_humanity,
        cast(positive_employee as tinyint) as positive_employee,
        cast(positive_other as tinyint) as positive_other,
        cast(negative_effectiveness as tinyint) as negative_effectiveness,
        cast(negative_ease as tinyint) as negative_ease,
        cast(negative_efficiency as tinyint) as negative_efficiency,
        cast(negative_transparency as tinyint) as negative_transparency,
        cast(negative_humanity as tinyint) as negative_humanity,
        cast(negative_employee as tinyint) as negative_employee,
        cast(negative_other as tinyint) as negative_other,
        cast(comment as varchar) as comment,
        cast(contact_id as varchar) as contact_id,
        cast(age_band as varchar) as age_band,
        cast(race_ethnicity as varchar) as race_ethnicity,
        cast(income_band as varchar) as income_band,
        cast(urbanicity as varchar) as urbanicity,
        cast(language as varchar) as language,
        cast(disability as varchar) as disability,
        cast(veteran_status as varchar) as veteran_status,
        cast(weight as integer) as weight,
        cast(row_kind as varchar) as row_kind,
        cast(question_text as varchar) as question_text
    from source
)

select
    *,
    -- Every respondent answers the required trust question, so an answer-count row adds respondents
    -- only when it counts trust answers; counting every item's rows would count each person per item.
    case
        when row_kind = 'respondent' then weight
        when trust is not null then weight
        else 0
    end as respondents,
    -- The record's key for the published counts (perturbed() in sql/macros/statistics.sql).
    record_key_of(response_id) as record_key,
    fiscal_year_label(fiscal_year_of(submitted_at)) as fiscal_year,
    fiscal_quarter_of(submitted_at) as fiscal_quarter,
    month_of(submitted_at) as month
from typed
