{#- Rows where the column lies outside [min_value, max_value] (either bound optional); on a
    daily build, among the rows that changed (macros/tests/changed_rows.sql). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
select *
from {{ changed_rows(model) }}
where {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
    )
{% endtest %}

{#- Rows for which a boolean SQL expression over the row's columns is false; on a daily build,
    among the rows that changed (macros/tests/changed_rows.sql). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ changed_rows(model) }}
where not ({{ expression }})
{% endtest %}

{#- Combinations of columns that occur more than once. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
