-- label: Employee helpfulness
-- description: "Employees I interacted with were helpful." Share answering 4 or 5 on the 1-5 agreement scale, out of all valid answers to this item (blanks and N/A excluded); the mean of the 1-5 answers comes alongside.
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Emotion
-- owner: Office of Customer Experience
-- aggregate: share

-- One row per valid answer to the employee item.
select
    *,
    case when employee >= 4 then 1 else 0 end as value,
    employee as score
from stg_responses
where employee is not null
