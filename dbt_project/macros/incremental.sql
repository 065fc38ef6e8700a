{#- Incremental models: what a build after the first one recomputes.

    A model recomputes the whole rows (an order, a session, a day, a snapshot) that rows
    changed within var('incremental_lookback_days') touch, and replaces them by key: merge on
    BigQuery, delete+insert on DuckDB, the same outcome. A row "changes" when one of its
    timestamps moves forward (an order shipped, delivered, returned: staging's changed_at) or a
    shop sends it again (ingested_at); the lookback counts back from the newest change of each
    clock, so rows that land late by up to that many days are still caught. Rows never vanish
    from the data except through erasure, and a build with pending erasure requests is a full
    refresh (common/pipeline/dbt.py); `dbt build --full-refresh` rebuilds everything. -#}

{#- An incremental model's config: replaced by `unique_key`; on BigQuery partitioned by the
    date `partition_field` (none: not partitioned) and clustered by `cluster_by` (the columns
    its readers filter on). -#}
{% macro incremental_config(unique_key, partition_field, cluster_by, granularity='month') -%}
    {%- set strategy = 'merge' if target.type == 'bigquery' else 'delete+insert' -%}
    {%- set settings = {
        'materialized': 'incremental',
        'unique_key': unique_key,
        'incremental_strategy': strategy,
        'on_schema_change': 'fail',
    } -%}
    {%- do settings.update(partitioned(partition_field, cluster_by, granularity)) -%}
    {{ return(settings) }}
{%- endmacro %}

{#- BigQuery's partitioning and clustering of a table by a date column (DuckDB has neither).
    Month partitions by default: a day of a mart is far below the size a partition pays off at,
    and clustering on the date column still skips the blocks of other days. -#}
{% macro partitioned(partition_field, cluster_by, granularity='month') -%}
    {%- set by_date = {'field': partition_field, 'data_type': 'date', 'granularity': granularity} -%}
    {{ return({
        'partition_by': by_date if target.type == 'bigquery' and partition_field else none,
        'cluster_by': cluster_by,
    }) }}
{%- endmacro %}

{#- The instant `days` days before a timestamp. -#}
{% macro days_before(expression, days) -%}
    {{ return(adapter.dispatch('days_before', 'execkpi')(expression, days)) }}
{%- endmacro %}
{% macro default__days_before(expression, days) %}({{ expression }} - interval ({{ days }}) day){% endmacro %}
{% macro bigquery__days_before(expression, days) %}timestamp_sub({{ expression }}, interval {{ days }} day){% endmacro %}

{#- The first instant of the lookback on one clock (`column`) of `relation`: its newest value
    less var('incremental_lookback_days'). Read when the model or test runs and written as a
    literal, so that the engine prunes the scans it filters (storage blocks of older rows)
    instead of reading everything to compare with a subquery's value. A staging view's comes
    from the build's on-run-start (record_lookback_starts): a view is read in full to find its
    newest row, once per build rather than once per model and test. Compiling without asking
    the engine (parsing, offline BigQuery compilation) renders the subquery that gives the same
    instant. -#}
{% macro lookback_start(relation, column) -%}
    {%- set newest_less_lookback = days_before('max(' ~ column ~ ')', var('incremental_lookback_days')) -%}
    {%- set query = 'select ' ~ newest_less_lookback ~ ' from ' ~ relation -%}
    {%- if execute and var('offline_is_incremental', none) is none -%}
        {%- set recorded = 'select ' ~ column ~ ' from ' ~ source('build', 'lookback_starts')
            ~ " where view_name = '" ~ relation.identifier ~ "'" -%}
        {%- if run_query(recorded).rows | length > 0 -%}
            {%- set query = recorded -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(instant_literal(query)) }}
{%- endmacro %}

{#- The instant a query of one timestamp gives, as a literal read when the model runs (see
    lookback_start), or as the query itself when compiling without asking the engine. -#}
{% macro instant_literal(query) -%}
    {%- if not execute or var('offline_is_incremental', none) is not none -%}
        {{ return('(' ~ query ~ ')') }}
    {%- endif -%}
    {%- set instant = run_query(query).rows[0][0] -%}
    {%- set literal = 'null' if instant is none else "'" ~ instant ~ "'" -%}
    {{ return('cast(' ~ literal ~ ' as ' ~ dbt.type_timestamp() ~ ')') }}
{%- endmacro %}

{#- on-run-start: lookback_start's instants of the staging views with a clock, as the data
    stands when the build starts (the views the previous build made, over today's rows). A
    first build has no views yet, and a full refresh no lookback: the table is left empty. -#}
{% macro record_lookback_starts() -%}
    {%- if not execute or var('offline_is_incremental', none) is not none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set days = var('incremental_lookback_days') -%}
    {%- set timestamp = dbt.type_timestamp() -%}
    {%- set selects = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.materialized == 'view' and not flags.FULL_REFRESH -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
        {%- set columns = [] if relation is none else adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if 'ingested_at' in columns -%}
            {%- set clocks = [] -%}
            {%- for clock in ['changed_at', 'ingested_at'] -%}
                {%- set instant = days_before('max(' ~ clock ~ ')', days) if clock in columns else 'null' -%}
                {%- do clocks.append('cast(' ~ instant ~ ' as ' ~ timestamp ~ ') as ' ~ clock) -%}
            {%- endfor -%}
            {%- do selects.append("select '" ~ node.alias ~ "' as view_name, " ~ clocks | join(', ') ~ ' from ' ~ relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set empty = 'select cast(null as ' ~ dbt.type_string() ~ ') as view_name, cast(null as ' ~ timestamp
        ~ ') as changed_at, cast(null as ' ~ timestamp ~ ') as ingested_at limit 0' -%}
    {%- do run_query(
        'create or replace table ' ~ source('build', 'lookback_starts') ~ ' as '
        ~ (selects | join(' union all ') if selects else empty)
    ) -%}
    {#- Looking the views up opened a transaction, which dbt rolls back after the hooks. -#}
    {%- do adapter.commit() -%}
{%- endmacro %}

{#- A condition on a row of `relation` (as `alias`): it changed within the lookback, on the
    data's clock (changed_at) or on the ingest function's (ingested_at). -#}
{% macro changed_recently(relation, alias) -%}
    ({{ alias }}.changed_at >= {{ lookback_start(relation, 'changed_at') }}
        or {{ alias }}.ingested_at >= {{ lookback_start(relation, 'ingested_at') }})
{%- endmacro %}

{#- The newest of an order's (or item's) timestamps: when it last changed on the data's clock.
    BigQuery's greatest() is null when any argument is. -#}
{% macro latest_of(first, others) -%}
    greatest({{ first }}{% for column in others %}, coalesce({{ column }}, {{ first }}){% endfor %})
{%- endmacro %}

{#- The newest of nullable timestamps, null when all are (greatest() would be null as soon as
    one is on BigQuery, and on DuckDB as soon as one is not). -#}
{% macro newest_of(columns) -%}
    {{ return(adapter.dispatch('newest_of', 'execkpi')(columns)) }}
{%- endmacro %}
{% macro default__newest_of(columns) %}list_max([{{ columns | join(', ') }}]){% endmacro %}
{% macro bigquery__newest_of(columns) %}(select max(instant) from unnest([{{ columns | join(', ') }}]) as instant){% endmacro %}

{#- dbt's is_incremental(), unless var('offline_is_incremental') says what to assume: compiling
    offline (scripts/data/dbt_runner.py --prod-offline) cannot ask BigQuery whether the table
    exists, and renders either branch on request. -#}
{% macro is_incremental() -%}
    {%- set assumed = var('offline_is_incremental', none) -%}
    {%- if assumed is none or not execute -%}
        {{ return(dbt.is_incremental()) }}
    {%- endif -%}
    {{ return(assumed and model.config.materialized == 'incremental') }}
{%- endmacro %}
