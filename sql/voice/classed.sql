-- The comments of `voice_rows` (responses with a redacted comment, each with its list of `themes`),
-- each with its author's trust answer and the size of its class: the commenters of the same service,
-- channel, customer segment, fiscal quarter and trust answer among the rows given. A comment is shown
-- only when its class reaches the privacy minimum (verbatims.sql says why).
with answered as (
    select
        *,
        case
            when trust is null then 'not answered'
            when trust_scale = 'thumbs' then case when trust = 1 then 'positive' else 'negative' end
            when trust >= 4 then 'positive'
            when trust <= 2 then 'negative'
            else 'neutral'
        end as trust_answer
    from voice_rows
)

select
    *,
    cast(sum(weight) over (partition by service, channel, segment, fiscal_quarter, trust_answer) as bigint) as class_n
from answered
