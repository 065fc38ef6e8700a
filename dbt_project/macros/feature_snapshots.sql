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

{#- as_of_date() as a date literal read once when the model runs: without a var it is a query
    of every order, which each snapshot date would run again. As as_of_date() itself when
    compiling without asking the engine (see lookback_start). -#}
{% macro as_of_date_literal() -%}
    {%- if var('as_of_date') or not execute or var('offline_is_incremental', none) is not none -%}
        {{ return(as_of_date()) }}
    {%- endif -%}
    {%- set day = run_query('select ' ~ as_of_date()).rows[0][0] -%}
    {%- set literal = 'null' if day is none else "'" ~ day ~ "'" -%}
    {{ return('cast(' ~ literal ~ ' as date)') }}
{%- endmacro %}
