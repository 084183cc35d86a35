-- label: Offer rate
-- description: Customers offered the survey / customers served, per the collections input.
-- unit: share of customers served
-- format: percent
-- direction: higher_is_better
-- theme: Volume
-- owner: Office of Customer Experience
-- aggregate: ratio

-- One row per service, fiscal quarter and survey channel.
select
    service,
    channel,
    fiscal_year,
    fiscal_quarter,
    customers_offered as numerator,
    customers_served as denominator
from stg_collections
