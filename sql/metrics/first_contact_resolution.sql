-- label: First-contact resolution
-- description: Share of answered contacts resolved on that contact. Denominator: answered contacts with resolution recorded.
-- unit: share of answered contacts
-- format: percent
-- direction: higher_is_better
-- theme: Operations
-- owner: Contact Center Operations
-- aggregate: share
-- target: 0.75

-- One row per answered contact whose resolution was recorded.
select
    *,
    case when resolved_first_contact then 1 else 0 end as value
from stg_contacts
where answered
    and resolved_first_contact is not null
