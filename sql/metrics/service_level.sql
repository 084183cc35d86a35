-- label: Answered within 5 minutes
-- description: Service level: share of answered contacts whose wait from queue entry to answer was 5 minutes (300 seconds) or less. Denominator: answered contacts.
-- unit: share of answered contacts
-- format: percent
-- direction: higher_is_better
-- theme: Operations
-- owner: Contact Centre Operations
-- aggregate: share
-- target: 0.80

-- One row per answered contact.
select
    *,
    case when queue_wait_seconds <= 300 then 1 else 0 end as value
from stg_contacts
where answered
