-- One row per group of the breakdown: the weighted mean of value, with a 95% normal interval
-- (weights count respondents, so the variance uses n - 1 respondents).
-- Reads totals (sql/aggregates/totals/mean.sql): the breakdown columns, then the sums.
with moments as (
    select
        *,
        total / answered as average,
        case
            when answered > 1 then sqrt(greatest(total_squares - total * total / answered, 0) / (answered - 1))
        end as deviation
    from totals
)

select
    columns(* exclude (total, total_squares, answered, average, deviation)),
    average as value,
    cast(answered as bigint) as n,
    average - 1.959963984540054 * deviation / sqrt(answered) as ci_low,
    average + 1.959963984540054 * deviation / sqrt(answered) as ci_high,
    cast(null as double) as mean
from moments
