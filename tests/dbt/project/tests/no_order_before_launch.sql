-- A singular test: import-dbt lists it as not mapped.
select * from {{ ref('orders') }} where ordered_at < timestamp '2020-01-01'
