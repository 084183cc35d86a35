-- label: Effectiveness
-- description: "My need was addressed." Share answering 4 or 5 on the 1-5 agreement scale, out of all valid answers to this item (blanks and N/A excluded); the mean of the 1-5 answers comes alongside.
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Effectiveness
-- owner: Office of Customer Experience
-- aggregate: share
-- target: 0.75

-- One row per valid answer to the effectiveness item.
select
    *,
    case when effectiveness >= 4 then 1 else 0 end as value,
    effectiveness as score
from stg_responses
where effectiveness is not null
