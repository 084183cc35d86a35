-- One row per input: its rows, first and last fiscal quarter, and the services and channels it covers.
with responses as (
    select 'responses' as input_name, fiscal_quarter, service, channel from stg_responses
),

contacts as (
    select 'contacts' as input_name, fiscal_quarter, service, channel from stg_contacts
),

transactions as (
    select 'transactions' as input_name, fiscal_quarter, service, channel from stg_transactions
),

collections as (
    select 'collections' as input_name, fiscal_quarter, service, channel from stg_collections
),

unioned as (
    select * from responses
    union all
    select * from contacts
    union all
    select * from transactions
    union all
    select * from collections
)

select
    input_name,
    count(*) as row_count,
    min(fiscal_quarter) as first_quarter,
    max(fiscal_quarter) as last_quarter,
    list_sort(list(distinct service)) as services,
    list_sort(list(distinct channel)) as channels
from unioned
group by input_name
