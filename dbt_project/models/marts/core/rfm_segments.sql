-- Recency, frequency and monetary scores (quintiles, 5 = best) per customer with revenue,
-- measured as of the analysis date, and the segment they put the customer in.
-- Every score ranks a customer among all the others and the recency counts to the analysis
-- date, so every row can change each day: a plain table, rebuilt from customer_revenue_daily
-- (incremental, one row per customer and day with kept orders) rather than from every order.
with customer_days as (
    select * from {{ ref('customer_revenue_daily') }}
    where order_date <= {{ as_of_date_literal() }}
),

per_customer as (
    select
        user_id,
        {{ dbt.datediff('max(order_date)', as_of_date_literal(), 'day') }} as recency_days,
        cast(sum(orders) as {{ dbt.type_bigint() }}) as frequency,
        sum(revenue) as monetary
    from customer_days
    group by user_id
),

scored as (
    select
        user_id,
        recency_days,
        frequency,
        monetary,
        ntile(5) over (order by recency_days desc, user_id) as recency_score,
        ntile(5) over (order by frequency, user_id) as frequency_score,
        ntile(5) over (order by monetary, user_id) as monetary_score
    from per_customer
),

final as (
    select
        user_id,
        recency_days,
        frequency,
        monetary,
        recency_score,
        frequency_score,
        monetary_score,
        case
            when recency_score >= 4 and frequency_score >= 4 and monetary_score >= 4 then 'Champions'
            when recency_score >= 3 and frequency_score >= 3 then 'Loyal'
            when recency_score >= 4 and frequency_score <= 2 then 'New'
            when recency_score <= 2 and frequency_score >= 3 then 'At Risk'
            when recency_score = 3 then 'Needs Attention'
            else 'Hibernating'
        end as segment
    from scored
)

select * from final
