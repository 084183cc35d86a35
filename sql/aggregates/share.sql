-- One row per group of the breakdown: the weighted share of rows whose value is 1, with a 95%
-- Wilson interval, and the weighted mean of score (the 1-5 answer) when the metric provides it.
-- Reads totals (sql/aggregates/totals/share.sql): the breakdown columns, then the sums.
select
    columns(* exclude (positive, answered, score_total, scored)),
    positive / answered as value,
    cast(answered as bigint) as n,
    wilson_low(positive, answered) as ci_low,
    wilson_high(positive, answered) as ci_high,
    score_total / scored as mean
from totals
