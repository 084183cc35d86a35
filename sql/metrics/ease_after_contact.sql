-- label: Ease after a contact
-- description: Ease (share answering 4 or 5 on the five-point scale) among respondents whose response is linked to an answered contact-center or in-person contact, so it can be broken down by how long they waited (wait_band).
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Ease
-- owner: Office of Customer Experience
-- aggregate: share
-- asks: ease

-- One row per five-point ease answer whose response follows an answered contact with a known wait.
select
    *,
    case when ease >= 4 then 1 else 0 end as value,
    ease as score
from responses_with_contacts
where ease is not null
    and wait_band is not null
    and contact_answered
