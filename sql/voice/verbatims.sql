-- The newest $limit comments a page lists, newest first. Reads `listed` (listed.sql). The store keeps
-- the comments newest first, so once $limit are found the rest of the table is skipped.
select
    fiscal_quarter,
    trust_answer,
    themes,
    comment
from listed
order by submitted_at desc, response_id
limit $limit
