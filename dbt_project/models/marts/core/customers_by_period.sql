-- Paying customers per whole day, week (Monday to Sunday) and month: distinct customers do not
-- add up across days, so the revenue KPI reads them here for the periods a range holds whole and
-- counts from customer_revenue_daily only the days of the (at most two) periods it cuts.
-- Tiny (one row per grain and period): a plain table rebuilt in full.
with customer_days as (
    select order_date, user_id from {{ ref('customer_revenue_daily') }}
),

final as (
    -- customer_revenue_daily holds one row per day and customer
    select 'day' as grain, order_date as period, count(*) as customers
    from customer_days
    group by order_date

    {%- for grain in ['week', 'month'] %}

    union all

    select '{{ grain }}' as grain, {{ period_start(grain, 'order_date') }} as period,
        count(distinct user_id) as customers
    from customer_days
    group by {{ period_start(grain, 'order_date') }}
    {%- endfor %}
)

select grain, period, cast(customers as {{ dbt.type_bigint() }}) as customers from final
{{ storage_order('grain, period') }}
