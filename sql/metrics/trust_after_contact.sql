-- label: Trust after a contact
-- description: Trust (share answering 4 or 5 on the five-point scale) among respondents whose response is linked to an answered contact-center or in-person contact, so it can be broken down by how long they waited (wait_band).
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Trust
-- owner: Office of Customer Experience
-- aggregate: share
-- asks: trust

-- One row per five-point trust answer whose response follows an answered contact with a known wait.
select
    *,
    case when trust >= 4 then 1 else 0 end as value,
    trust as score
from responses_with_contacts
where trust is not null
    and trust_scale = 'five_point'
    and wait_band is not null
    and contact_answered
