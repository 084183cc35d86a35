-- One row per group of the breakdown: the weighted share of rows whose value is 1, with a 95%
-- Wilson interval, and the weighted mean of score (the 1-5 answer) when the metric provides it.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator.
with totals as (
    select
        columns(* exclude (value, weight, score, numerator, denominator)),
        sum(weight * value) as positive,
        sum(weight) as answered,
        sum(weight * score) filter (where score is not null) as score_total,
        sum(weight) filter (where score is not null) as scored
    from metric_input
    group by all
)

select
    columns(* exclude (positive, answered, score_total, scored)),
    positive / answered as value,
    cast(answered as bigint) as n,
    wilson_low(positive, answered) as ci_low,
    wilson_high(positive, answered) as ci_high,
    score_total / scored as mean
from totals
