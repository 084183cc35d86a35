-- One row per contact that entered a queue (call, chat, visit); typed, with its fiscal period.
with source as (
    select * from raw_contacts
),

typed as (
    select
        cast(contact_id as varchar) as contact_id,
        cast(started_at as timestamp) as started_at,
        cast(service as varchar) as service,
        cast(channel as varchar) as channel,
        cast(segment as varchar) as segment,
        cast(journey_stage as varchar) as journey_stage,
        cast(queue_wait_seconds as double) as queue_wait_seconds,
        cast(handle_seconds as double) as handle_seconds,
        cast(answered as boolean) as answered,
        cast(resolved_first_contact as boolean) as resolved_first_contact,
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
    *,
    -- The record's key for the published counts (perturbed() in sql/macros/statistics.sql).
    record_key_of(contact_id) as record_key,
    fiscal_year_label(fiscal_year_of(started_at)) as fiscal_year,
    fiscal_quarter_of(started_at) as fiscal_quarter,
    month_of(started_at) as month
from typed
