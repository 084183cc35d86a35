-- label: Hard online form
-- description: Comments about an online form that was confusing, or documents that would not upload; in English and Spanish.
-- owner: Digital Services
-- direction: lower_is_better

regexp_matches(lower(comment), 'online form|upload|formulario|subir (mis|los) documentos')
