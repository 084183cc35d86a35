-- One row per survey response, with the wait and outcome of the contact it followed (if any).
with responses as (
    select * from stg_responses
),

contacts as (
    select
        contact_id,
        queue_wait_seconds,
        handle_seconds,
        answered,
        resolved_first_contact
    from stg_contacts
)

select
    responses.*,
    contacts.queue_wait_seconds as contact_wait_seconds,
    contacts.handle_seconds as contact_handle_seconds,
    contacts.answered as contact_answered,
    contacts.resolved_first_contact as contact_resolved_first_contact,
    case
        when contacts.queue_wait_seconds is null then null
        when contacts.queue_wait_seconds < 120 then 'Under 2 min'
        when contacts.queue_wait_seconds < 300 then '2-5 min'
        when contacts.queue_wait_seconds < 600 then '5-10 min'
        when contacts.queue_wait_seconds < 1200 then '10-20 min'
        else '20 min or more'
    end as wait_band
from responses
left join contacts on responses.contact_id = contacts.contact_id
