-- label: Trust (thumbs)
-- description: Share of thumbs-up answers to the v2 trust question where a service asks it as thumbs up/down. Kept apart from the five-point Trust score: the two scales are never pooled.
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Trust
-- owner: Office of Customer Experience
-- aggregate: share

-- One row per thumbs-up or thumbs-down answer to the trust question.
select
    *,
    trust as value
from stg_responses
where trust_scale = 'thumbs'
    and trust is not null
