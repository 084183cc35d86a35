-- The comments of `voice_rows` (responses with a redacted comment, each with its list of `themes`),
-- each with its author's trust answer. With the service, channel, customer segment and fiscal
-- quarter, it names the class a comment is counted in (composition.comments adds the size of each
-- class, and of each class within each equity group, among the rows given). A comment is shown
-- only when its class reaches the privacy minimum (verbatims.sql says why).
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
