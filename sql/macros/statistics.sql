-- 95% Wilson score interval for k successes out of n: well behaved at small n and at 0% or 100%.
-- z = 1.959963984540054, the two-sided 95% normal quantile.
-- The bounds are clamped to [0, 1]: at 0% or 100% rounding would otherwise print -0.0000.
create or replace macro wilson_low(k, n) as
    case when n > 0 and k >= 0 and k <= n then greatest(0.0,
        (k / n + 1.959963984540054 ** 2 / (2 * n)
         - 1.959963984540054 * sqrt(k / n * (1 - k / n) / n + 1.959963984540054 ** 2 / (4 * n * n)))
        / (1 + 1.959963984540054 ** 2 / n))
    end;

create or replace macro wilson_high(k, n) as
    case when n > 0 and k >= 0 and k <= n then least(1.0,
        (k / n + 1.959963984540054 ** 2 / (2 * n)
         + 1.959963984540054 * sqrt(k / n * (1 - k / n) / n + 1.959963984540054 ** 2 / (4 * n * n)))
        / (1 + 1.959963984540054 ** 2 / n))
    end;
