-- The comments a page may list (metrics/analyses/voice.py). Reads `listable`: every comment
-- (composition.comments: classed by classed.sql, kept in the store as voice_comments) that passes the
-- page's filters, with `group_class_n`, the size of its class within the group the list is narrowed
-- to (its class itself when none is), `in_theme`, whether it is about the theme the list is
-- narrowed to (true when none is), and `listed_order`, its place newest first. verbatims.sql lists
-- the newest of them, listed_count.sql counts them.
--
-- A comment is listed only when that class holds at least $min_n commenters: the comments of the
-- same service, channel, segment, fiscal quarter and trust answer, within the group. Every filter a
-- person can set selects whole classes, so two lists can differ only by whole classes, never by a
-- group of fewer than $min_n. Narrowed to an equity group, a comment is listed only under the one
-- equity dimension its slot names ($slot; the slot is a hash of its response id, which nobody can
-- compute without the rows): lists narrowed by two dimensions (age band, then race and ethnicity)
-- share no comment, so comparing them cannot place one in a small cross of the two. $slot = -1 lists
-- every comment (no equity group chosen); $trust = '' lists every answer. A theme is read from its
-- own true-or-false column (comments.TAG_PREFIX) rather than each comment's list of themes: a list
-- at 100M responses that found none took 40-51 ms once read, against 50-62 ms.
select *
from listable
where group_class_n >= $min_n
    and ($slot = -1 or slot = $slot)
    and in_theme
    and ($trust = '' or trust_answer = $trust)
