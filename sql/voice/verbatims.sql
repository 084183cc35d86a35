-- The newest $limit comments a page lists, newest first (then by response id). Reads `listed`
-- (listed.sql), whose `listed_order` is that order: the store's row order, as it keeps the comments
-- so, or the rank by time and id of comments composed over the rows. Once $limit are found, the rest
-- of the store's table is skipped.
select
    fiscal_quarter,
    trust_answer,
    themes,
    comment
from listed
order by listed_order
limit $limit
