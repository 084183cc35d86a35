-- label: Wait, 90th percentile
-- description: 90th percentile of seconds from queue entry to answer, over answered contacts; abandoned contacts are left out (see Abandonment rate).
-- unit: seconds
-- format: duration
-- direction: lower_is_better
-- theme: Operations
-- owner: Contact Center Operations
-- aggregate: p90

-- One row per answered contact.
select
    *,
    queue_wait_seconds as value
from stg_contacts
where answered
