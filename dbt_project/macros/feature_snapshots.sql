{#- features_conversion's snapshot dates: the last var('feature_snapshot_weeks') Mondays whose
    label window (var('label_window_days')) has fully passed by the analysis date `as_of`
    (as_of_date_literal() by default), one per row of a `snapshot_date` column. -#}
{% macro feature_snapshot_dates(as_of=none) -%}
    {%- set as_of = as_of_date_literal() if as_of is none else as_of -%}
    {% for week in range(var('feature_snapshot_weeks')) -%}
    select {{ feature_snapshot_date(week, as_of) }} as snapshot_date
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{%- endmacro %}

{#- The snapshot date `week` weeks before the newest one, by the analysis date `as_of`. -#}
{% macro feature_snapshot_date(week, as_of) -%}
    {{ return(week_start(dbt.dateadd('day', -(var('label_window_days') + 7 * week), as_of))) }}
{%- endmacro %}
