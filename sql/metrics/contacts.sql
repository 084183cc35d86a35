-- label: Contacts
-- description: Number of contact-center and in-person contacts that entered a queue, answered or abandoned.
-- unit: contacts
-- format: integer
-- direction: neutral
-- theme: Volume
-- owner: Contact Center Operations
-- aggregate: count

-- One row per contact.
select *
from stg_contacts
