-- label: Praise for online renewal
-- description: Comments praising renewing online; in English and Spanish.
-- owner: Digital Services
-- direction: higher_is_better

regexp_matches(lower(comment), 'online renewal|renewing online|renovaci[óo]n en l[íi]nea|renov[ée] en l[íi]nea')
