-- One row per service, fiscal quarter and survey channel: customers served and offered the survey.
with source as (
    select * from raw_collections
),

typed as (
    select
        cast(service as varchar) as service,
        cast(fiscal_year as integer) as fiscal_year_number,
        cast(fiscal_quarter as integer) as fiscal_quarter_number,
        cast(channel as varchar) as channel,
        cast(customers_served as bigint) as customers_served,
        cast(customers_offered as bigint) as customers_offered,
        cast(trust_question_text as varchar) as trust_question_text,
        cast(survey_type as varchar) as survey_type,
        cast(publishable as boolean) as publishable,
        cast(organization as varchar) as organization,
        cast(service_provider as varchar) as service_provider,
        cast(transaction_point as varchar) as transaction_point,
        cast(service_stage as varchar) as service_stage,
        cast(survey_title as varchar) as survey_title,
        cast(omb_control_number as varchar) as omb_control_number,
        cast(federal_register_url as varchar) as federal_register_url,
        cast(reflection_text as varchar) as reflection_text
    from source
)

select
    *,
    -- The record's key for the published counts (perturbed() in sql/macros/statistics.sql): its
    -- contract key, the service, year, quarter and channel.
    record_key_of(concat_ws('|', service, cast(fiscal_year_number as varchar), cast(fiscal_quarter_number as varchar), channel)) as record_key,
    fiscal_year_label(fiscal_year_number) as fiscal_year,
    fiscal_quarter_label(fiscal_year_number, fiscal_quarter_number) as fiscal_quarter
from typed
