-- label: Response rate
-- description: Respondents / customers offered the survey, per the collections input (not / customers served). Only service, quarter and channel combinations with a collections row count.
-- unit: share of customers offered the survey
-- format: percent
-- direction: higher_is_better
-- theme: Volume
-- owner: Office of Customer Experience
-- aggregate: ratio

-- One row per service, fiscal quarter and survey channel with a collections row.
with collections as (
    select * from stg_collections
),

respondents as (
    select
        service,
        channel,
        fiscal_quarter,
        sum(respondents) as respondents
    from stg_responses
    group by all
)

select
    collections.service as service,
    collections.channel as channel,
    collections.fiscal_year as fiscal_year,
    collections.fiscal_quarter as fiscal_quarter,
    coalesce(respondents.respondents, 0) as numerator,
    collections.customers_offered as denominator
from collections
left join respondents
    on collections.service = respondents.service
    and collections.channel = respondents.channel
    and collections.fiscal_quarter = respondents.fiscal_quarter
