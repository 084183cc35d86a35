-- The services whose survey, in a quarter from $first_quarter to $last_quarter and in a channel of
-- $channels (all when empty), is not cleared for public release (a collection marked not
-- publishable), among $services (all when empty): their survey numbers are for internal use only.
select distinct service
from stg_collections
where not publishable
    and fiscal_quarter between $first_quarter and $last_quarter
    and (len($services) = 0 or list_contains($services, service))
    and (len($channels) = 0 or list_contains($channels, channel))
order by service
