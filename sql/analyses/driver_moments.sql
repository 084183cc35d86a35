-- reads: stg_responses
-- keys: bucket
-- Sufficient statistics for ranking the drivers of trust: for respondents who answered trust on the
-- five-point scale and all six driver items, the count, sums and sums of products of the seven
-- answers, per jackknife bucket. Twenty buckets by a hash of the response id let the Python side
-- (metrics/drivers.py) give each importance an interval without pulling respondent rows out of DuckDB.
-- Every column but bucket is a sum, and cell is carried through, so the store keeps these sums per
-- cell of the page filters and a page adds up the cells it asks for (metrics/query.py, analyse).
with complete as (
    select
        cell,
        hash(response_id) % 20 as bucket,
        cast(trust as double) as trust,
        cast(effectiveness as double) as effectiveness,
        cast(ease as double) as ease,
        cast(efficiency as double) as efficiency,
        cast(transparency as double) as transparency,
        cast(employee as double) as employee,
        cast(humanity as double) as humanity,
        cast(weight as double) as weight,
        -- The record key of the published count (sql/macros/statistics.sql's perturbed()).
        cast(record_key as double) as record_key
    from analysis_rows
    where trust_scale = 'five_point'
        and trust is not null
        and effectiveness is not null
        and ease is not null
        and efficiency is not null
        and transparency is not null
        and employee is not null
        and humanity is not null
)

-- Weights count respondents (aggregated rows carry their count), so every sum is weighted.
select
    cell,
    bucket,
    sum(weight) as n,
    sum(weight * record_key) as keyed,
    sum(weight * trust) as s_trust,
    sum(weight * effectiveness) as s_effectiveness,
    sum(weight * ease) as s_ease,
    sum(weight * efficiency) as s_efficiency,
    sum(weight * transparency) as s_transparency,
    sum(weight * employee) as s_employee,
    sum(weight * humanity) as s_humanity,
    sum(weight * trust * trust) as s_trust__trust,
    sum(weight * trust * effectiveness) as s_trust__effectiveness,
    sum(weight * trust * ease) as s_trust__ease,
    sum(weight * trust * efficiency) as s_trust__efficiency,
    sum(weight * trust * transparency) as s_trust__transparency,
    sum(weight * trust * employee) as s_trust__employee,
    sum(weight * trust * humanity) as s_trust__humanity,
    sum(weight * effectiveness * effectiveness) as s_effectiveness__effectiveness,
    sum(weight * effectiveness * ease) as s_effectiveness__ease,
    sum(weight * effectiveness * efficiency) as s_effectiveness__efficiency,
    sum(weight * effectiveness * transparency) as s_effectiveness__transparency,
    sum(weight * effectiveness * employee) as s_effectiveness__employee,
    sum(weight * effectiveness * humanity) as s_effectiveness__humanity,
    sum(weight * ease * ease) as s_ease__ease,
    sum(weight * ease * efficiency) as s_ease__efficiency,
    sum(weight * ease * transparency) as s_ease__transparency,
    sum(weight * ease * employee) as s_ease__employee,
    sum(weight * ease * humanity) as s_ease__humanity,
    sum(weight * efficiency * efficiency) as s_efficiency__efficiency,
    sum(weight * efficiency * transparency) as s_efficiency__transparency,
    sum(weight * efficiency * employee) as s_efficiency__employee,
    sum(weight * efficiency * humanity) as s_efficiency__humanity,
    sum(weight * transparency * transparency) as s_transparency__transparency,
    sum(weight * transparency * employee) as s_transparency__employee,
    sum(weight * transparency * humanity) as s_transparency__humanity,
    sum(weight * employee * employee) as s_employee__employee,
    sum(weight * employee * humanity) as s_employee__humanity,
    sum(weight * humanity * humanity) as s_humanity__humanity
from complete
group by cell, bucket

