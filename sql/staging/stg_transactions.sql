-- One row per completed transaction; typed, with its fiscal period and self-service flag.
with source as (
    select * from raw_transactions
),

channels as (
    select * from channels
),

typed as (
    select
        cast(transaction_id as varchar) as transaction_id,
        cast(completed_at as timestamp) as completed_at,
        cast(service as varchar) as service,
        cast(channel as varchar) as channel,
        cast(segment as varchar) as segment,
        cast(journey_stage as varchar) as journey_stage,
        cast(age_band as varchar) as age_band,
        cast(race_ethnicity as varchar) as race_ethnicity,
        cast(income_band as varchar) as income_band,
        cast(urbanicity as varchar) as urbanicity,
        cast(language as varchar) as language,
        cast(disability as varchar) as disability,
        cast(veteran_status as varchar) as veteran_status
    from source
)

select
    typed.*,
    -- Self-service comes from the documented channel mapping, never from the source system.
    channels.self_service as self_service,
    -- The record's key for the published counts (perturbed() in sql/macros/statistics.sql).
    record_key_of(typed.transaction_id) as record_key,
    fiscal_year_label(fiscal_year_of(typed.completed_at)) as fiscal_year,
    fiscal_quarter_of(typed.completed_at) as fiscal_quarter,
    month_of(typed.completed_at) as month
from typed
inner join channels on typed.channel = channels.channel
