{#- Rows a shop sends through the ingest function (source `ingested`, _ingested__sources.yml)
    read alongside thelook's. -#}

{#- A thelook table's `columns` with the ingested rows added: a key's newest ingested row (by
    _ingested_at, then _batch_id) replaces the thelook row and older ingested ones, since a
    shop sends a row again to correct it (an order's new status). Without ingested rows this is
    the thelook table as it was. An anti-join, not a window over both, so the thelook table is
    never sorted. Rows also carry _ingested_at (null for thelook's): incremental models find
    the rows a shop sent recently by it. -#}
{% macro thelook_with_ingested(table, key, columns) -%}
    {%- set column_list = columns | join(', ') -%}
    select {% for column in columns %}thelook_rows.{{ column }}, {% endfor %}cast(null as {{ dbt.type_timestamp() }}) as _ingested_at
    from {{ source('thelook', table) }} as thelook_rows
    left join (select distinct {{ key }} from {{ source('ingested', table) }}) as ingested_keys
        on ingested_keys.{{ key }} = thelook_rows.{{ key }}
    where ingested_keys.{{ key }} is null

    union all

    select {{ column_list }}, _ingested_at
    from (
        select
            {{ column_list }},
            _ingested_at,
            row_number() over (
                partition by {{ key }} order by _ingested_at desc, _batch_id desc
            ) as version_rank
        from {{ source('ingested', table) }}
    ) as ingested_versions
    where version_rank = 1
{%- endmacro %}

{#- on-run-start: the ingested tables staging reads. BigQuery's are Terraform's external tables
    over the curated objects. On DuckDB the build copies the curated Parquet under var
    ingested_dir (the pipeline passes <EXECKPI_ARTIFACT_DIR>/ingest/curated) into tables: one
    build sees one set of batches whatever lands meanwhile, the warehouse file stands alone for
    the functions reading it, and no file at all gives empty tables of the contract's types. -#}
{% macro create_ingested_tables() -%}
    {{ return(create_parquet_tables('ingested', var('ingested_dir', ''), 'ingested_on')) }}
{%- endmacro %}

{#- The tables of a source whose rows are Parquet objects in the artifact store, one folder per
    table: <folder>/<table name>/<partition>=<value>/*.parquet. BigQuery reads them through
    Terraform's external tables; DuckDB builds copy them into tables, as above. -#}
{% macro create_parquet_tables(source_name, folder, partition) -%}
    {{ return(adapter.dispatch('create_parquet_tables', 'execkpi')(source_name, folder, partition)) }}
{%- endmacro %}

{% macro bigquery__create_parquet_tables(source_name, folder, partition) %}{% endmacro %}

{% macro default__create_parquet_tables(source_name, folder, partition) -%}
    {%- if execute -%}
    {%- for node in graph.sources.values() if node.source_name == source_name -%}
        {%- set files = (folder ~ '/' ~ node.name ~ '/' ~ partition ~ '=*/*.parquet') | replace("'", "''") -%}
        {%- set found = folder != '' and run_query("select count(*) from glob('" ~ files ~ "')").columns[0].values()[0] > 0 -%}
        {%- if loop.first %}create schema if not exists {{ node.schema }}; set TimeZone = 'UTC';{% endif %}
        create or replace table {{ node.schema }}.{{ node.identifier }} as
        select
        {%- for column in node.columns.values() %}
            {{ ingested_column(column.name, column.data_type, found) }} as "{{ column.name }}"{{ ',' if not loop.last }}
        {%- endfor %}
        {% if found %}from read_parquet('{{ files }}', union_by_name = true){% else %}where false{% endif %};
        {%- if loop.last %} reset TimeZone;{% endif %}
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- A column as raw.<table> types it; timestamps arrive as UTC instants and are kept as naive
    UTC, as scripts/data/thelook/load.py keeps thelook's. The session is on UTC meanwhile, so a
    writer's naive timestamp is read as UTC too rather than shifted by the machine's zone. -#}
{% macro ingested_column(name, data_type, found) -%}
    {%- if not found -%}
        cast(null as {{ data_type }})
    {%- elif data_type == 'timestamp' -%}
        cast(timezone('UTC', "{{ name }}") as timestamp)
    {%- else -%}
        cast("{{ name }}" as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
