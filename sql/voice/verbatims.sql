-- The comments a page may list (metrics/analyses/voice.py), newest first. Reads `classed`
-- (classed.sql over the responses with a comment that pass the page's filters).
--
-- A comment is listed only when its class holds at least $min_n commenters: the comments of the same
-- service, channel, segment, fiscal quarter and trust answer, within the group the list is narrowed
-- to. Every filter a person can set selects whole classes, so two lists can differ only by whole
-- classes, never by a group of fewer than $min_n. Narrowed to an equity group, a comment is listed
-- only under the one equity dimension its slot names ($slot of $slots, from a hash of its response
-- id, which nobody can compute without the rows): lists narrowed by two dimensions (age band, then
-- race and ethnicity) share no comment, so comparing them cannot place one in a small cross of the
-- two. $slot = -1 lists every comment (no equity group chosen); $theme = '' and $trust = '' list every
-- theme and every trust answer.
with listed as (
    select *
    from classed
    where class_n >= $min_n
        and ($slot = -1 or hash(response_id || ':voice') % $slots = $slot)
        and ($theme = '' or list_contains(themes, $theme))
        and ($trust = '' or trust_answer = $trust)
)

select
    fiscal_quarter,
    trust_answer,
    themes,
    comment,
    count(*) over () as matching
from listed
order by submitted_at desc, response_id
limit $limit
