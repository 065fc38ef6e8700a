{#- Data tests of a daily incremental build: a complete check of the rows that changed.

    Models with both clocks of macros/incremental.sql (changed_at, ingested_at: the staging
    tables that grow with history and the incremental models built from them) are tested, when
    var('test_changed_rows') is true, only where a row changed within the lookback: the rows
    an incremental build recomputes, or that staging shows anew. The pipeline passes the var
    on builds after the first one without pending erasures (common/pipeline/dbt.py); the first
    build, `--full-refresh` and a build without the var test every row. Older rows passed the
    same tests on the build that wrote them, and never change or vanish but through erasure
    (a full refresh).

    - not_null, accepted_values, relationships, and this project's accepted_range and
      expression_is_true (macros/tests/generic_tests.sql): the changed rows (a relationship's
      parent: the whole table it references).
    - unique: the changed rows' keys against the whole column, so that a new row whose key an
      older row already holds still fails; a semi-join with the few changed keys as its build
      side, instead of an aggregate over every key.

    The lookback's bounds are literals (macros/incremental.sql, lookback_start), so that the
    engine prunes the scans by them. -#}

{#- Whether the tests of `model` check only its changed rows. -#}
{% macro tests_changed_rows_only(model) -%}
    {%- if not execute or not var('test_changed_rows', false) or flags.FULL_REFRESH -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(model) | map(attribute='name') | map('lower') | list -%}
    {{ return('changed_at' in columns and 'ingested_at' in columns) }}
{%- endmacro %}

{#- `model`'s changed rows (a subquery), or `model` itself when the test checks every row. -#}
{% macro changed_rows(model) -%}
    {%- if not tests_changed_rows_only(model) -%}
        {{ return(model) }}
    {%- endif -%}
    {{ return('(select * from ' ~ model ~ ' as changed where ' ~ changed_recently(model, 'changed') ~ ') as changed_rows') }}
{%- endmacro %}

{% macro default__test_not_null(model, column_name) -%}
    {{ dbt.default__test_not_null(changed_rows(model), column_name) }}
{%- endmacro %}

{% macro default__test_accepted_values(model, column_name, values, quote=True) -%}
    {{ dbt.default__test_accepted_values(changed_rows(model), column_name, values, quote) }}
{%- endmacro %}

{% macro default__test_relationships(model, column_name, to, field) -%}
    {{ dbt.default__test_relationships(changed_rows(model), column_name, to, field) }}
{%- endmacro %}

{% macro default__test_unique(model, column_name) -%}
    {%- if not tests_changed_rows_only(model) -%}
        {{ return(dbt.default__test_unique(model, column_name)) }}
    {%- endif %}
select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ column_name }} in (
    select changed.{{ column_name }} from {{ model }} as changed
    where {{ changed_recently(model, 'changed') }}
)
group by {{ column_name }}
having count(*) > 1
{%- endmacro %}
