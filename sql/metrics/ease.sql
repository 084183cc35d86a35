-- label: Ease
-- description: "It was easy to complete what I needed to do." Share answering 4 or 5 on the 1-5 agreement scale, out of all valid answers to this item (blanks and N/A excluded); the mean of the 1-5 answers comes alongside.
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Ease
-- owner: Office of Customer Experience
-- aggregate: share
-- target: 0.75

-- One row per valid answer to the ease item.
select
    *,
    case when ease >= 4 then 1 else 0 end as value,
    ease as score
from stg_responses
where ease is not null
