-- label: Transactions
-- description: Number of completed transactions (service completions), in every channel.
-- unit: transactions
-- format: integer
-- direction: neutral
-- theme: Volume
-- owner: Digital Services
-- aggregate: count

-- One row per completed transaction.
select *
from stg_transactions
