{#- The signature of dbt_utils' expression_is_true: rows where the expression is not
    true fail; a null condition passes, as in dbt_utils. -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
{%- if column_name is none %}
where not ({{ expression }})
{%- else %}
where not ({{ column_name }} {{ expression }})
{%- endif %}
{% endtest %}
