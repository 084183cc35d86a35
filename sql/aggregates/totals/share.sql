-- One row per group of the breakdown: the sums a share is computed from. Every column is a sum, so
-- totals over fine groups (the fast path's cubes) add up to the totals over coarser groups; the two
-- *_key sums are the cells' keys for the published counts (perturbed() in sql/macros/statistics.sql).
-- Reads metric_input: the breakdown columns, then value, weight, score, numerator, denominator, record_key.
select
    columns(* exclude (value, weight, score, numerator, denominator, record_key)),
    sum(weight * value) as positive,
    sum(weight) as answered,
    sum(weight * score) filter (where score is not null) as score_total,
    sum(weight) filter (where score is not null) as scored,
    sum(weight * value * record_key) as positive_key,
    sum(weight * record_key) as answered_key
from metric_input
group by all
