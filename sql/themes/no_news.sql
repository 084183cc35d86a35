-- label: No news while waiting
-- description: Comments about hearing nothing on a case or application while waiting for it; in English and Spanish.
-- owner: Office of Customer Experience
-- direction: lower_is_better

regexp_matches(lower(comment), 'no updates|no news|status of my|nobody could tell|sin noticias|estado de mi')
