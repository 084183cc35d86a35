-- The comments topics are found in (metrics/topics.py), read from `comments` (every comment, classed:
-- composition.comments): at most $sampled of them, a fixed sample by a hash of the response id, so the
-- same comments give the same topics. Each carries what a page needs to show it as an example: its
-- service (a person may see only some services) and the size of its class, which must reach the
-- page's privacy minimum.
select
    comment,
    service,
    fiscal_quarter,
    trust_answer,
    class_n
from comments
order by hash(response_id), response_id
limit $sampled
