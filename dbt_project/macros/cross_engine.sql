{#- Engine-specific SQL lives here, one dispatched macro per difference. -#}

{#- Hex SHA-256 of a string: DuckDB returns hex already, BigQuery returns bytes. -#}
{% macro sha256_hex(expression) -%}
    {{ return(adapter.dispatch('sha256_hex', 'execkpi')(expression)) }}
{%- endmacro %}
{% macro duckdb__sha256_hex(expression) %}sha256({{ expression }}){% endmacro %}
{% macro bigquery__sha256_hex(expression) %}to_hex(sha256({{ expression }})){% endmacro %}

{#- The reporting time zone (var reporting_time_zone, an IANA name such as Europe/Berlin): days,
    ISO weeks and months begin at midnight there. The name is pasted into SQL, so it is checked. -#}
{% macro reporting_time_zone() -%}
    {%- set zone = var('reporting_time_zone') -%}
    {%- if not modules.re.fullmatch('[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*', zone) -%}
        {{ exceptions.raise_compiler_error("reporting_time_zone '" ~ zone ~ "' is not an IANA time zone name") }}
    {%- endif -%}
    {{ return(zone) }}
{%- endmacro %}

{#- The calendar day a UTC timestamp falls on in the reporting time zone, daylight saving time
    included. Raw timestamps are UTC (DuckDB: naive TIMESTAMP, read as UTC; BigQuery: TIMESTAMP). -#}
{% macro local_date(expression) -%}
    {{ return(adapter.dispatch('local_date', 'execkpi')(expression, reporting_time_zone())) }}
{%- endmacro %}
{% macro duckdb__local_date(expression, zone) %}cast(timezone('{{ zone }}', timezone('UTC', {{ expression }})) as date){% endmacro %}
{% macro bigquery__local_date(expression, zone) %}date({{ expression }}, '{{ zone }}'){% endmacro %}

{#- Monday of the week of a date (a local_date), as a date (DuckDB's 'week' and BigQuery's
    ISOWEEK both start on Monday; BigQuery's plain WEEK starts on Sunday). -#}
{% macro week_start(expression) -%}
    {{ return(adapter.dispatch('week_start', 'execkpi')(expression)) }}
{%- endmacro %}
{% macro duckdb__week_start(expression) %}cast(date_trunc('week', {{ expression }}) as date){% endmacro %}
{% macro bigquery__week_start(expression) %}date_trunc(cast({{ expression }} as date), isoweek){% endmacro %}

{#- a / b as a double (a ratio, not money), or null when b is 0 or null. BigQuery's SAFE_DIVIDE of
    two NUMERICs is a NUMERIC: the cast keeps the column FLOAT64 on both engines. -#}
{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide', 'execkpi')(numerator, denominator)) }}
{%- endmacro %}
{% macro default__safe_divide(numerator, denominator) %}cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0){% endmacro %}
{% macro bigquery__safe_divide(numerator, denominator) %}safe_divide(cast({{ numerator }} as {{ type_double() }}), {{ denominator }}){% endmacro %}

{#- A UTC timestamp column as the engine's TIMESTAMP (raw tables hold UTC instants). -#}
{% macro to_timestamp(expression) -%}
    cast({{ expression }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- An IEEE double: dbt.type_float() is a 4-byte FLOAT on DuckDB. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'execkpi')()) }}
{%- endmacro %}
{% macro default__type_double() %}double{% endmacro %}
{% macro bigquery__type_double() %}float64{% endmacro %}

{#- Aggregate: the value of `value` on the row with the smallest `order_by` in the group. -#}
{% macro first_by(value, order_by) -%}
    {{ return(adapter.dispatch('first_by', 'execkpi')(value, order_by)) }}
{%- endmacro %}
{% macro duckdb__first_by(value, order_by) %}arg_min({{ value }}, {{ order_by }}){% endmacro %}
{% macro bigquery__first_by(value, order_by) %}array_agg({{ value }} ignore nulls order by {{ order_by }} limit 1)[safe_offset(0)]{% endmacro %}

{#- Money: exact decimals, never floats, so sums are cent-exact. BigQuery's NUMERIC is
    DECIMAL(38, 9); DuckDB gets the same precision and scale, so both engines hold the same
    amounts. -#}
{% macro type_money() -%}
    {{ return(adapter.dispatch('type_money', 'execkpi')()) }}
{%- endmacro %}
{% macro default__type_money() %}decimal(38, 9){% endmacro %}
{% macro bigquery__type_money() %}numeric{% endmacro %}

{#- A source amount as money fixed to the currency's minor unit, as an invoice line states
    it: read to 9 decimals first (both engines' cast to NUMERIC; what lies beyond is float
    noise: 6.645 stored as a 32-bit float reads 6.644999999552965), then rounded half away from
    zero (both engines' ROUND on decimals). -#}
{% macro to_money(expression) -%}
    cast(round(cast({{ expression }} as {{ type_money() }}), {{ var('currency_minor_unit') }}) as {{ type_money() }})
{%- endmacro %}

{#- An amount per order, user, ... as money (9 decimals; answers round it), or null when there
    is none to divide by. DuckDB divides a decimal in double precision; BigQuery in NUMERIC. -#}
{% macro money_per(amount, denominator) -%}
    cast({{ amount }} / nullif({{ denominator }}, 0) as {{ type_money() }})
{%- endmacro %}

{#- The dates from start to end, both included, as an array to unnest (empty when start is
    later). DuckDB's elements are timestamps at midnight: cast them to date. -#}
{% macro date_array(start, end) -%}
    {{ return(adapter.dispatch('date_array', 'execkpi')(start, end)) }}
{%- endmacro %}
{% macro duckdb__date_array(start, end) %}generate_series(cast({{ start }} as date), cast({{ end }} as date), interval 1 day){% endmacro %}
{% macro bigquery__date_array(start, end) %}generate_date_array({{ start }}, {{ end }}){% endmacro %}

{#- An ORDER BY that lays a table's rows out for its readers where the engine keeps the order
    written: DuckDB's per-row-group min/max then let a top-N or range scan skip most groups.
    BigQuery keeps no row order (it clusters instead): nothing. -#}
{% macro storage_order(columns) -%}
    {{ return(adapter.dispatch('storage_order', 'execkpi')(columns)) }}
{%- endmacro %}
{% macro duckdb__storage_order(columns) %}order by {{ columns }}{% endmacro %}
{% macro bigquery__storage_order(columns) %}{% endmacro %}
