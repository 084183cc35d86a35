-- label: Went well: Transparency
-- description: Share of v2 respondents shown the "what went well" checklist who selected transparency. Respondents not shown the checklist are left out (the cell is null).
-- unit: share of respondents shown the checklist
-- format: percent
-- direction: higher_is_better
-- theme: Drivers
-- owner: Office of Customer Experience
-- aggregate: share

-- One row per v2 respondent shown the checklist.
select
    *,
    positive_transparency as value
from stg_responses
where positive_transparency is not null
