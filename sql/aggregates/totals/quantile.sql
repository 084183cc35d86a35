-- One row per group of the breakdown and distinct value: how many rows have that value. Quantiles
-- do not add up over groups, but these counts do; sql/aggregates/quantile_histogram.sql reads the
-- quantile and its interval off them.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator.
select
    columns(* exclude (weight, score, numerator, denominator)),
    count(*) as counted
from metric_input
where value is not null
group by all
