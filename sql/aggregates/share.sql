-- One row per group of the breakdown: the weighted share of rows whose value is 1, with a 95%
-- Wilson interval, and the weighted mean of score (the 1-5 answer) when the metric provides it. The
-- share, n and interval come from the published (perturbed) counts; raw_n, the true count, is read by
-- suppression only and never leaves the engine.
-- Reads totals (sql/aggregates/totals/share.sql): the breakdown columns, then the sums.
with published as (
    select
        *,
        perturbed(answered, answered_key, $exact) as published_n
    from totals
),

counted as (
    select
        *,
        least(perturbed(positive, positive_key, $exact), published_n) as published_positive
    from published
)

select
    columns(* exclude (
        positive, answered, score_total, scored, positive_key, answered_key, published_n, published_positive
    )),
    published_positive / published_n as value,
    cast(published_n as bigint) as n,
    wilson_low(published_positive, published_n) as ci_low,
    wilson_high(published_positive, published_n) as ci_high,
    score_total / scored as mean,
    cast(answered as bigint) as raw_n
from counted
