-- label: Help in Spanish
-- description: Comments asking for help in Spanish or saying none was there.
-- owner: Office of Customer Experience
-- direction: lower_is_better

regexp_matches(lower(comment), 'español|espanol|spanish')
