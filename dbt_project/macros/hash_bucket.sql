{#-
  Deterministic experiment bucket in [0, 1): the first 8 bytes of
  SHA-256("<experiment_id>:<user_id>") as an unsigned integer / 2^64 (common/experiments.py).
  The 64-bit integer is built from two 32-bit halves, each exact in a signed BIGINT/INT64, and
  their sum is rounded to a double once: the same double Python gets from int / 2**64.
-#}
{% macro hash_bucket(experiment_id, user_id) -%}
    {%- set digest = sha256_hex("concat(" ~ experiment_id ~ ", ':', cast(" ~ user_id ~ " as " ~ dbt.type_string() ~ "))") -%}
    (
        cast(cast(concat('0x', substr({{ digest }}, 1, 8)) as {{ dbt.type_bigint() }}) as {{ type_double() }}) * pow(2, 32)
        + cast(cast(concat('0x', substr({{ digest }}, 9, 8)) as {{ dbt.type_bigint() }}) as {{ type_double() }})
    ) / pow(2, 64)
{%- endmacro %}
