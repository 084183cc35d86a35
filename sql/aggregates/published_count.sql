-- One row: a count as published, perturbed by its cell key (sql/macros/statistics.sql), or the true
-- count with $exact. For counts an analysis sums itself (the drivers' complete answers).
select cast(perturbed($n, $cell_key, $exact) as bigint) as n
