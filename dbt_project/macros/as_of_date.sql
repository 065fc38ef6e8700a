{#- The analysis date: var('as_of_date') when set, else the local date of the newest order. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        (select max({{ local_date('created_at') }}) from {{ ref('stg_thelook__orders') }})
    {%- endif -%}
{%- endmacro %}

{#- as_of_date() as a date literal read once when the model runs: without a var it is a query
    of every order, which each use (a snapshot date, a recency) would run again. As
    as_of_date() itself when compiling without asking the engine (see lookback_start). -#}
{% macro as_of_date_literal() -%}
    {%- if var('as_of_date') or not execute or var('offline_is_incremental', none) is not none -%}
        {{ return(as_of_date()) }}
    {%- endif -%}
    {%- set day = run_query('select ' ~ as_of_date()).rows[0][0] -%}
    {%- set literal = 'null' if day is none else "'" ~ day ~ "'" -%}
    {{ return('cast(' ~ literal ~ ' as date)') }}
{%- endmacro %}
