{#- The sufficient statistics the stats engine reads per group (common.stats.inputs.Moments):
    n, Σy, Σy², and the CUPED covariate's Σx, Σx², Σxy. One definition for every A/B mart. -#}
{% macro ab_sufficient_statistics(y='y', x='x') %}
        count(*) as n,
        sum({{ y }}) as sum,
        sum({{ y }} * {{ y }}) as sum_squares,
        sum({{ x }}) as covariate_sum,
        sum({{ x }} * {{ x }}) as covariate_sum_squares,
        sum({{ x }} * {{ y }}) as cross_product_sum
{%- endmacro %}
