-- label: Mean wait
-- description: Mean seconds from queue entry to answer, over answered contacts, with a 95% interval. The median is the headline; the mean turns into customer hours (mean x contacts) on the Value page.
-- unit: seconds
-- format: duration
-- direction: lower_is_better
-- theme: Operations
-- owner: Contact Center Operations
-- aggregate: mean

-- One row per answered contact.
select
    *,
    queue_wait_seconds as value
from stg_contacts
where answered
