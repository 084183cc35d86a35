-- One row per collection of fiscal quarter $fiscal_quarter (service and channel): its volumes, the trust
-- question as worded and scaled, whether it may be published, and what its A-11 collection detail names.
select
    service,
    channel,
    trust_question_text,
    survey_type,
    customers_served,
    customers_offered,
    publishable,
    organization,
    service_provider,
    transaction_point,
    service_stage,
    survey_title,
    omb_control_number,
    federal_register_url,
    reflection_text
from stg_collections
where fiscal_quarter = $fiscal_quarter
order by service, channel
