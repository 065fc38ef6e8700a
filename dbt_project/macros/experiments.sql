{#- Experiment definitions (common/definitions): the dbt_build function copies the store's
    current versions into these staging tables before each build (common/definitions/staging.py,
    the same columns). on-run-start creates them empty so that a build outside dbt_build reads
    them too (and, finding them empty, the seed files). -#}
{% macro create_experiment_definitions() -%}
    {%- set experiments = source('definitions', 'experiment_definitions') -%}
    {%- set variants = source('definitions', 'experiment_definition_variants') -%}
    {%- set double = 'float64' if target.type == 'bigquery' else 'double' -%}
    {%- if target.type != 'bigquery' %}create schema if not exists {{ experiments.schema }};{% endif %}
    create table if not exists {{ experiments }} (
        experiment_id {{ dbt.type_string() }},
        hypothesis {{ dbt.type_string() }},
        start_date date,
        end_date date,
        primary_metric {{ dbt.type_string() }},
        definition_version {{ dbt.type_bigint() }}
    );
    create table if not exists {{ variants }} (
        experiment_id {{ dbt.type_string() }},
        variant_index {{ dbt.type_bigint() }},
        variant {{ dbt.type_string() }},
        weight {{ double }}
    )
{%- endmacro %}
