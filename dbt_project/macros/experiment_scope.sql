{#- The incremental experiment models (int_experiment_exposures, ab_assignments,
    int_experiment_user_values, ab_metrics, ab_metrics_by_dimension, ab_metrics_cumulative):
    a build after the first one recomputes the experiments int_experiment_scope lists (for
    ab_metrics_cumulative, their days from that experiment's from_day on) and keeps the other
    experiments' rows. Before it writes them, a pre-hook deletes the rows it replaces and those
    of experiments that no longer exist, so that no row of a recomputed experiment outlives its
    inputs (a user no longer exposed, a variant without weight). -#}

{#- An incremental experiment model's config: incremental_config's, clustered by experiment
    and not partitioned (a few rows per experiment and day, or per exposed user); rows with a
    date `day_column` are recomputed from the scope's from_day on. -#}
{% macro experiment_incremental_config(unique_key, day_column=none) -%}
    {%- set settings = incremental_config(unique_key, none, ['experiment_id']) -%}
    {%- set day = "'" ~ day_column ~ "'" if day_column else 'none' -%}
    {%- do settings.update({
        'partition_by': none,
        'pre_hook': '{{ delete_recomputed_experiments(' ~ day ~ ') }}',
    }) -%}
    {{ return(settings) }}
{%- endmacro %}

{#- pre-hook: the stored rows the model recomputes (from the scope's from_day on when rows have
    a `day_column`), and those of experiments without a definition. -#}
{% macro delete_recomputed_experiments(day_column=none) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as stored
    where stored.experiment_id not in (select experiment_id from {{ ref('int_experiment_variants') }})
        or exists (
            select 1 from {{ ref('int_experiment_scope') }} as scope
            where scope.experiment_id = stored.experiment_id
            {%- if day_column %}
                and stored.{{ day_column }} >= scope.from_day
            {%- endif %}
        )
    {%- endif -%}
{%- endmacro %}

{#- A recomputed experiment (`column` holds its id): the condition with which the model reads
    its inputs on an incremental build. -#}
{% macro recomputed_experiment(column) -%}
    {{ column }} in (select scope.experiment_id from {{ ref('int_experiment_scope') }} as scope)
{%- endmacro %}

{#- An incremental experiment model as the previous build left it, read by int_experiment_scope
    before it is rebuilt (no ref: the model depends on the scope); none on a full refresh or
    while it does not exist. Compiling offline, var('offline_is_incremental') says whether it
    exists. -#}
{% macro previous_experiment_model(name) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes['model.' ~ project_name ~ '.' ~ name] -%}
    {%- set assumed = var('offline_is_incremental', none) -%}
    {%- if assumed is not none -%}
        {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) if assumed else none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(node.database, node.schema, node.alias)) }}
{%- endmacro %}

{#- A singular test's condition on the experiments it checks (`column` holds the id): on a daily
    build (var('test_changed_rows'), macros/tests/changed_rows.sql) those it recomputed, whose
    rows were checked by the build that wrote them otherwise; on other builds every one. -#}
{% macro tested_experiment(column) -%}
    {%- if var('test_changed_rows', false) and not flags.FULL_REFRESH -%}
        {{ recomputed_experiment(column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
