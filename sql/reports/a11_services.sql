-- One row per service with survey answers or a collections row in fiscal quarter $fiscal_quarter
-- (e.g. 'FY2025 Q1'): the volumes, wording and sources of its A-11 Section 280 submission.
with responses as (
    select * from stg_responses
    where fiscal_quarter = $fiscal_quarter
),

collections as (
    select * from stg_collections
    where fiscal_quarter = $fiscal_quarter
),

collected_channels as (
    select
        service,
        channel,
        sum(customers_served) as customers_served,
        sum(customers_offered) as customers_offered
    from collections
    group by all
),

answered_channels as (
    select
        service,
        channel,
        sum(respondents) as respondents
    from responses
    group by all
),

channels as (
    select
        coalesce(collected_channels.service, answered_channels.service) as service,
        coalesce(collected_channels.channel, answered_channels.channel) as channel,
        collected_channels.customers_served as customers_served,
        collected_channels.customers_offered as customers_offered,
        coalesce(answered_channels.respondents, 0) as respondents,
        collected_channels.service is not null as collected
    from collected_channels
    full join answered_channels
        on collected_channels.service = answered_channels.service
        and collected_channels.channel = answered_channels.channel
),

volumes as (
    select
        service,
        list_sort(list(channel)) as channels,
        sum(customers_served) as customers_served,
        sum(customers_offered) as customers_offered,
        sum(respondents) as respondents,
        -- The response rate counts respondents only where the customers offered are known, as the
        -- response_rate metric does.
        coalesce(sum(respondents) filter (where collected), 0) as respondents_in_collections,
        list_sort(list(channel) filter (where not collected and respondents > 0)) as channels_without_collections
    from channels
    group by service
),

collected_wording as (
    select
        service,
        list(distinct trust_question_text) as wordings,
        list(distinct survey_type) as survey_types
    from collections
    group by service
),

asked as (
    select service, channel, trust_question_text as wording, survey_type
    from collections
    union
    select service, channel, question_text as wording, 'likert_scale' as survey_type
    from responses
    where row_kind = 'answer_count'
        and trust is not null
),

-- A service may word the question differently per channel; one channel asking it two ways in one
-- quarter makes the submission ambiguous.
asked_two_ways as (
    select
        service,
        list_sort(list(distinct channel)) as channels
    from (
        select service, channel
        from asked
        group by all
        having count(distinct wording) > 1 or count(distinct survey_type) > 1
    )
    group by service
),

answered as (
    select
        service,
        list(distinct question_text) filter (where row_kind = 'answer_count' and trust is not null) as wordings,
        list(distinct case when trust_scale = 'thumbs' then 'thumbs_up_down' else 'likert_scale' end)
            filter (where trust is not null) as survey_types,
        coalesce(sum(weight) filter (where trust is not null), 0) as trust_answers,
        coalesce(sum(weight) filter (
            where coalesce(satisfaction, effectiveness, ease, efficiency, transparency, employee, humanity) is not null
                or coalesce(
                    positive_effectiveness, positive_ease, positive_efficiency, positive_transparency,
                    positive_humanity, positive_employee, positive_other, negative_effectiveness, negative_ease,
                    negative_efficiency, negative_transparency, negative_humanity, negative_employee,
                    negative_other
                ) is not null
        ), 0) as driver_answers,
        bool_or(row_kind = 'respondent') as has_respondent_rows,
        bool_or(row_kind = 'answer_count') as has_answer_counts
    from responses
    group by service
)

select
    volumes.service as service,
    volumes.channels as channels,
    cast(volumes.customers_served as bigint) as customers_served,
    cast(volumes.customers_offered as bigint) as customers_offered,
    cast(volumes.respondents as bigint) as respondents,
    cast(volumes.respondents_in_collections as bigint) as respondents_in_collections,
    case
        when volumes.customers_offered > 0 then volumes.respondents_in_collections / volumes.customers_offered
    end as response_rate,
    volumes.channels_without_collections as channels_without_collections,
    list_sort(list_distinct(list_concat(
        coalesce(collected_wording.wordings, []), coalesce(answered.wordings, [])
    ))) as trust_wordings,
    list_sort(list_distinct(list_concat(
        coalesce(collected_wording.survey_types, []), coalesce(answered.survey_types, [])
    ))) as survey_types,
    coalesce(asked_two_ways.channels, []) as channels_asked_two_ways,
    cast(coalesce(answered.trust_answers, 0) as bigint) as trust_answers,
    cast(coalesce(answered.driver_answers, 0) as bigint) as driver_answers,
    coalesce(answered.has_respondent_rows, false) as has_respondent_rows,
    coalesce(answered.has_answer_counts, false) as has_answer_counts
from volumes
left join collected_wording on volumes.service = collected_wording.service
left join answered on volumes.service = answered.service
left join asked_two_ways on volumes.service = asked_two_ways.service
order by volumes.service
