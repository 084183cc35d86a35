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
    -- The bands are sql/seeds/wait_bands.csv, which pages also read for their order.
    wait_bands.wait_band
from responses
left join contacts on responses.contact_id = contacts.contact_id
left join wait_bands
    on contacts.queue_wait_seconds >= wait_bands.from_seconds
    and (contacts.queue_wait_seconds < wait_bands.below_seconds or wait_bands.below_seconds is null)
