{#- The analysis date: var('as_of_date') when set, else the local date of the newest order. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        (select max({{ local_date('created_at') }}) from {{ ref('stg_thelook__orders') }})
    {%- endif -%}
{%- endmacro %}
