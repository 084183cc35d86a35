-- label: Satisfaction
-- description: "I am satisfied with the service I received." Share answering 4 or 5 on the 1-5 agreement scale, out of all valid answers to this item (blanks and N/A excluded); the mean of the 1-5 answers comes alongside.
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Satisfaction
-- owner: Office of Customer Experience
-- aggregate: share
-- target: 0.80

-- One row per valid answer to the satisfaction item.
select
    *,
    case when satisfaction >= 4 then 1 else 0 end as value,
    satisfaction as score
from stg_responses
where satisfaction is not null
