{#- Post-hook of an incremental model whose rows can vanish: delete+insert and merge only
    replace the keys a build writes, so the build writes a vanished row's key with values
    that mark it (`condition`) and this deletes them. A build that wrote none (every first or
    full build) issues no DELETE at all. -#}
{% macro delete_vanished_rows(relation, condition) -%}
    {%- if execute -%}
        {%- set marked = run_query('select count(*) from ' ~ relation ~ ' where ' ~ condition).rows[0][0] -%}
        {%- if marked > 0 -%}
            delete from {{ relation }} where {{ condition }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
