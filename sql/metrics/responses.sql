-- label: Responses
-- description: Number of survey respondents. Aggregated answer counts add the count of their trust answers (every respondent answers the required trust question), not one per item.
-- unit: respondents
-- format: integer
-- direction: neutral
-- theme: Volume
-- owner: Office of Customer Experience
-- aggregate: count

-- One row per survey respondent, or per aggregated answer count, weighted by the respondents it adds.
select * replace (respondents as weight)
from stg_responses
where respondents > 0
