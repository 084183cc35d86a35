-- label: Abandonment rate
-- description: Share of contacts that entered a queue and hung up or left before an agent answered. Denominator: all contacts that entered a queue.
-- unit: share of contacts
-- format: percent
-- direction: lower_is_better
-- theme: Operations
-- owner: Contact Center Operations
-- aggregate: share
-- target: 0.08

-- One row per contact that entered a queue.
select
    *,
    case when answered then 0 else 1 end as value
from stg_contacts
