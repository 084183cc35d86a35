-- label: Efficiency
-- description: "It took a reasonable amount of time." (the speed side of ease) Share answering 4 or 5 on the 1-5 agreement scale, out of all valid answers to this item (blanks and N/A excluded); the mean of the 1-5 answers comes alongside.
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Ease
-- owner: Office of Customer Experience
-- aggregate: share

-- One row per valid answer to the efficiency item.
select
    *,
    case when efficiency >= 4 then 1 else 0 end as value,
    efficiency as score
from stg_responses
where efficiency is not null
