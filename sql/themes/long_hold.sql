-- label: Long holds
-- description: Comments about waiting on hold, or a long time before anyone answered; in English and Spanish.
-- owner: Office of Customer Experience
-- direction: lower_is_better

regexp_matches(lower(comment), 'on hold|before anyone answered|long time before|esper[ée] mucho tiempo|en espera')
