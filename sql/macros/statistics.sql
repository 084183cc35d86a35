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

-- A record's key in [0, 65536): the first four hex digits of the MD5 digest of a text that identifies
-- it (its id, which only those holding the rows know), read digit by digit so that any SQL engine
-- computes the same key: the cubes may be built on Spark (metrics/spark.py) and must equal DuckDB's.
create or replace macro record_key_of(identity) as
    (instr('0123456789abcdef', substr(md5(identity), 1, 1)) - 1) * 4096
    + (instr('0123456789abcdef', substr(md5(identity), 2, 1)) - 1) * 256
    + (instr('0123456789abcdef', substr(md5(identity), 3, 1)) - 1) * 16
    + (instr('0123456789abcdef', substr(md5(identity), 4, 1)) - 1);

-- Cell-key perturbation, the method of national statistics offices' table builders: every row of a
-- metric carries a record key in [0, 65536), its record's (sql/staging gives each record one, and
-- sql/aggregates read it as record_key); a cell's key is the sum of its rows' keys (weighted by what each row counts) modulo
-- 65536, so the same rows always make the same key, whichever view, filter or breakdown asks for them.
-- The published count is the true count plus a noise read off the key: -2, -1, 0, +1 or +2 with
-- equal chances. An empty cell stays 0 and a cell with rows never falls below 1. With `exact` (the
-- data owner's `cx query --exact`) the true count is returned.
create or replace macro perturbed(n, cell_key, exact) as
    case
        when exact or n is null or n <= 0 then n
        else greatest(1, n + floor((cast(cell_key as hugeint) % 65536) * 5 / 65536) - 2)
    end;
