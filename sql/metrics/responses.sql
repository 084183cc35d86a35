-- label: Responses
-- description: Number of survey respondents (aggregated answer counts add their count).
-- unit: respondents
-- format: integer
-- direction: neutral
-- theme: Volume
-- owner: Office of Customer Experience
-- aggregate: count

-- One row per survey respondent, or per answer count with its weight.
select *
from stg_responses
