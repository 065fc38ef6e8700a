-- Paying customers per whole day, week (Monday to Sunday) and month, how many of them are new
-- (their first kept order falls in the period) and the revenue of all and of the new ones:
-- distinct customers do not add up across days, so the revenue and new_vs_returning KPIs read
-- them here for the periods a range holds whole and count from customer_revenue_daily only the
-- days of the (at most two) periods it cuts.
-- Tiny (one row per grain and period): a plain table rebuilt in full.
with customer_days as (
    select order_date, user_id, revenue, first_order_date from {{ ref('customer_revenue_daily') }}
),

final as (
    -- customer_revenue_daily holds one row per day and customer
    select
        'day' as grain,
        order_date as period,
        count(*) as customers,
        sum(case when first_order_date = order_date then 1 else 0 end) as new_customers,
        sum(revenue) as revenue,
        sum(case when first_order_date = order_date then revenue else 0 end)
            as new_customer_revenue
    from customer_days
    group by order_date

    {%- for grain in ['week', 'month'] %}
    {%- set period = period_start(grain, 'order_date') %}
    {%- set is_new = period_start(grain, 'first_order_date') ~ ' = ' ~ period %}

    union all

    select
        '{{ grain }}' as grain,
        {{ period }} as period,
        count(distinct user_id) as customers,
        count(distinct case when {{ is_new }} then user_id end) as new_customers,
        sum(revenue) as revenue,
        sum(case when {{ is_new }} then revenue else 0 end) as new_customer_revenue
    from customer_days
    group by {{ period }}
    {%- endfor %}
)

select
    grain,
    period,
    cast(customers as {{ dbt.type_bigint() }}) as customers,
    cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
    revenue,
    new_customer_revenue
from final
{{ storage_order('grain, period') }}
