-- One row per group of the breakdown: the summed weight, which adds up over groups, and its cell key.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator, record_key.
select
    columns(* exclude (value, weight, score, numerator, denominator, record_key)),
    sum(weight) as counted,
    sum(weight * record_key) as counted_key
from metric_input
group by all
