-- One row per group of the breakdown: the weighted mean of value, with a 95% normal interval
-- (weights count respondents, so the variance uses n - 1 respondents). n and the interval's width
-- use the published (perturbed) count; raw_n, the true count, is read by suppression only.
-- Reads totals (sql/aggregates/totals/mean.sql): the breakdown columns, then the sums.
with moments as (
    select
        *,
        total / answered as average,
        case
            when answered > 1 then sqrt(greatest(total_squares - total * total / answered, 0) / (answered - 1))
        end as deviation,
        perturbed(answered, answered_key, $exact) as published_n
    from totals
)

select
    columns(* exclude (total, total_squares, answered, answered_key, average, deviation, published_n)),
    average as value,
    cast(published_n as bigint) as n,
    average - 1.959963984540054 * deviation / sqrt(published_n) as ci_low,
    average + 1.959963984540054 * deviation / sqrt(published_n) as ci_high,
    cast(null as double) as mean,
    cast(answered as bigint) as raw_n
from moments
