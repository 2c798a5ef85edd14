{#- A custom generic test that opsguard has no counterpart for: import-dbt lists it. -#}
{% test is_even(model, column_name) %}
select * from {{ model }} where {{ column_name }} % 2 <> 0
{% endtest %}
