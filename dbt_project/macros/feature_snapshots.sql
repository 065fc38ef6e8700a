{#- features_conversion's snapshot dates: the last var('feature_snapshot_weeks') Mondays whose
    label window (var('label_window_days')) has fully passed by the analysis date, one per row
    of a `snapshot_date` column. -#}
{% macro feature_snapshot_dates() -%}
    {%- set label_days = var('label_window_days') -%}
    {% for week in range(var('feature_snapshot_weeks')) -%}
    select {{ week_start(dbt.dateadd('day', -(label_days + 7 * week), as_of_date())) }} as snapshot_date
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{%- endmacro %}
