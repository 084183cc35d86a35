-- One row per group of the breakdown: the summed weight, which adds up over groups.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator.
select
    columns(* exclude (value, weight, score, numerator, denominator)),
    sum(weight) as counted
from metric_input
group by all
