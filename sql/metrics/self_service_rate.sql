-- label: Self-service rate
-- description: Share of completed transactions done in a self-service channel (website, mobile app, automated phone, kiosk, chatbot, computer, mobile: see sql/seeds/channels.csv) out of all completed transactions.
-- unit: share of transactions
-- format: percent
-- direction: higher_is_better
-- theme: Digital
-- owner: Digital Services
-- aggregate: share
-- target: 0.65
-- compares: channel

-- One row per completed transaction.
select
    *,
    case when self_service then 1 else 0 end as value
from stg_transactions
