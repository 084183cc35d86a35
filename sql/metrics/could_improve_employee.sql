-- label: Could improve: Employee
-- description: Share of v2 respondents shown the "what could be improved" checklist who selected employee. Respondents not shown the checklist are left out (the cell is null).
-- unit: share of respondents shown the checklist
-- format: percent
-- direction: lower_is_better
-- theme: Drivers
-- owner: Office of Customer Experience
-- aggregate: share

-- One row per v2 respondent shown the checklist.
select
    *,
    negative_employee as value
from stg_responses
where negative_employee is not null
