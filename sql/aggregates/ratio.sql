-- One row per group of the breakdown: sum of numerator over sum of denominator, both published
-- perturbed, with a 95% Wilson interval when the ratio is a proportion (numerator never above
-- denominator). raw_n, the true denominator, is read by suppression only.
-- Reads totals (sql/aggregates/totals/ratio.sql): the breakdown columns, then the sums.
with published as (
    select
        *,
        perturbed(bottom, bottom_key, $exact) as published_bottom
    from totals
),

counted as (
    select
        *,
        -- A proportion stays one when published: its numerator never above its denominator.
        case
            when top <= bottom then least(perturbed(top, top_key, $exact), published_bottom)
            else perturbed(top, top_key, $exact)
        end as published_top
    from published
)

select
    columns(* exclude (top, bottom, top_key, bottom_key, published_top, published_bottom)),
    case when published_bottom > 0 then published_top / published_bottom end as value,
    cast(published_bottom as bigint) as n,
    wilson_low(published_top, published_bottom) as ci_low,
    wilson_high(published_top, published_bottom) as ci_high,
    cast(null as double) as mean,
    cast(bottom as bigint) as raw_n
from counted
