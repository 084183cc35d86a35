-- label: Contacts
-- description: Number of contact-centre and in-person contacts that entered a queue, answered or abandoned.
-- unit: contacts
-- format: integer
-- direction: neutral
-- theme: Volume
-- owner: Contact Centre Operations
-- aggregate: count

-- One row per contact.
select *
from stg_contacts
