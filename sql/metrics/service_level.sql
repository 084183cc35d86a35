-- label: Service level (5 minutes)
-- description: Service level offered, as contact centers report it: contacts answered within 5 minutes (300 seconds) of entering the queue, out of contacts answered plus those abandoned after waiting more than 5 minutes. A caller who hung up sooner is left out (the industry's convention: the center had no fair chance to answer).
-- unit: share of contacts offered
-- format: percent
-- direction: higher_is_better
-- theme: Operations
-- owner: Contact Center Operations
-- aggregate: share
-- target: 0.80

-- One row per contact answered, or abandoned after waiting longer than the 5-minute threshold.
select
    *,
    case when answered and queue_wait_seconds <= 300 then 1 else 0 end as value
from stg_contacts
where answered
    or queue_wait_seconds > 300
