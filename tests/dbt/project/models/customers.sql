select
    cast(customer_id as integer) as customer_id,
    cast(email as varchar) as email,
    cast(tier as varchar) as tier
from {{ source('shop', 'raw_customers') }}
