select
    cast(order_id as integer) as order_id,
    cast(customer_id as integer) as customer_id,
    cast(amount as decimal(10, 2)) as amount,
    cast(status as varchar) as status,
    cast(ordered_at as timestamp) as ordered_at
from {{ source('raw', 'orders') }}
