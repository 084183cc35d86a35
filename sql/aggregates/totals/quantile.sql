-- One row per group of the breakdown and distinct value: how many rows have that value. Quantiles
-- do not add up over groups, but these counts do; sql/aggregates/quantile_histogram.sql reads the
-- quantile and its interval off them; keyed sums the rows' record keys for the published count.
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator, record_key.
select
    columns(* exclude (weight, score, numerator, denominator, record_key)),
    count(*) as counted,
    sum(record_key) as keyed
from metric_input
where value is not null
group by all
