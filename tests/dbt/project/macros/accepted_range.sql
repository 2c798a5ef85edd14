{#- The signature of dbt_utils' accepted_range (dbt_utils cannot be installed here:
    dbt deps fetches it from GitHub), so that the manifest holds the same test. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
select *
from {{ model }}
where
{%- if min_value is not none %}
    not ({{ column_name }} {{ '>=' if inclusive else '>' }} {{ min_value }})
{%- endif %}
{%- if min_value is not none and max_value is not none %} or {% endif %}
{%- if max_value is not none %}
    not ({{ column_name }} {{ '<=' if inclusive else '<' }} {{ max_value }})
{%- endif %}
{% endtest %}
