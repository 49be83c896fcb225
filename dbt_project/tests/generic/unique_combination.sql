{#-
  Generic test: the combination of `columns` is unique across the model (dbt_utils is not available
  offline). Fails with one row per duplicated combination.
-#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
