-- How many comments a page may list. Reads `listed` (listed.sql). Asked apart from the list itself,
-- and only when the list is full (metrics/analyses/voice.py): a count over the window of every listed
-- row held each one's comment in memory (a list at 100M responses: 300-570 ms against 73-102 ms).
select count(*) as matching
from listed
