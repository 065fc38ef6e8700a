{#- The right to erasure (common/privacy): erasure requests live in the staging schema's
    erasure_requests table, written by the dbt_build function. Every staging model with a user
    id keeps only the rows of users nobody asked to erase, so no model built on staging holds
    an erased user. -#}

{#- A where-clause condition: the row's user was not asked to be erased. A null user id
    (anonymous events) is kept, and a null in the table erases nobody. Uncorrelated (NOT IN
    over the non-null ids) rather than NOT EXISTS: DuckDB decorrelates a NOT EXISTS into a
    join that first collects the distinct user ids of every row the view reads, a scan of a
    staging view five times slower than a plain anti-join against the few requests. -#}
{% macro not_erased(user_id) -%}
    ({{ user_id }} is null or cast({{ user_id }} as {{ dbt.type_bigint() }}) not in (
        select erasure.user_id from {{ source('privacy', 'erasure_requests') }} as erasure
        where erasure.user_id is not null
    ))
{%- endmacro %}

{#- on-run-start: the table exists before the first request, so staging can read it. The
    same table as common/privacy/erasures.py creates; on BigQuery its dataset is Terraform's. -#}
{% macro create_erasure_requests() -%}
    {%- set table = source('privacy', 'erasure_requests') -%}
    {%- if target.type != 'bigquery' %}create schema if not exists {{ table.schema }};{% endif %}
    create table if not exists {{ table }} (
        request_id {{ dbt.type_string() }},
        user_id {{ dbt.type_bigint() }},
        requested_at {{ type_instant() }},
        completed_at {{ type_instant() }}
    )
{%- endmacro %}

{#- A point in time: BigQuery's TIMESTAMP is one; DuckDB's needs the time zone kept. -#}
{% macro type_instant() -%}
    {{ return(adapter.dispatch('type_instant', 'execkpi')()) }}
{%- endmacro %}
{% macro default__type_instant() %}timestamptz{% endmacro %}
{% macro bigquery__type_instant() %}timestamp{% endmacro %}
