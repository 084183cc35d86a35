-- label: Transparency
-- description: "I understood what was being asked of me." Share answering 4 or 5 on the 1-5 agreement scale, out of all valid answers to this item (blanks and N/A excluded); the mean of the 1-5 answers comes alongside.
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Transparency
-- owner: Office of Customer Experience
-- aggregate: share

-- One row per valid answer to the transparency item.
select
    *,
    case when transparency >= 4 then 1 else 0 end as value,
    transparency as score
from stg_responses
where transparency is not null
