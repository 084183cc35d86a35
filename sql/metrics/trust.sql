-- label: Trust
-- description: "This interaction increased my trust in the agency" (v1) / "I trust the agency to fulfill its duties" (v2), on the five-point scale. Share answering 4 or 5 out of all valid answers; the mean of the 1-5 answers comes alongside. Thumbs up/down answers are a different scale, never pooled with these: see Trust (thumbs).
-- unit: share of respondents
-- format: percent
-- direction: higher_is_better
-- theme: Trust
-- owner: Office of Customer Experience
-- aggregate: share
-- target: 0.70

-- One row per answer to the trust question on the five-point scale.
select
    *,
    case when trust >= 4 then 1 else 0 end as value,
    trust as score
from stg_responses
where trust_scale = 'five_point'
    and trust is not null
