-- One row per order with the revenue it keeps (items not cancelled or returned) and its
-- gross revenue (items not cancelled), for views of the order as it stood before a return,
-- and the product cost of the items it keeps (for gross margin).
with order_items as (
    select * from {{ ref('stg_thelook__order_items') }}
),

products as (
    select product_id, cost from {{ ref('stg_thelook__products') }}
),

orders as (
    select * from {{ ref('stg_thelook__orders') }}
),

item_totals as (
    select
        order_id,
        count(*) as items,
        sum(case when is_revenue then sale_price else 0 end) as revenue,
        sum(case when status <> 'Cancelled' then sale_price else 0 end) as gross_revenue,
        count(case when is_revenue then 1 end) as revenue_items,
        sum(case when status = 'Returned' then sale_price else 0 end) as returned_value,
        sum(case when is_revenue then products.cost else 0 end) as cost_of_revenue
    from order_items
    left join products on order_items.product_id = products.product_id
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.user_id,
        orders.status,
        orders.created_at,
        {{ local_date('orders.created_at') }} as order_date,
        orders.returned_at,
        orders.item_count,
        coalesce(item_totals.items, 0) as items,
        coalesce(item_totals.revenue_items, 0) as revenue_items,
        coalesce(item_totals.revenue, 0) as revenue,
        coalesce(item_totals.gross_revenue, 0) as gross_revenue,
        coalesce(item_totals.returned_value, 0) as returned_value,
        coalesce(item_totals.cost_of_revenue, 0) as cost_of_revenue,
        coalesce(item_totals.revenue_items, 0) > 0 as is_revenue_order
    from orders
    left join item_totals on orders.order_id = item_totals.order_id
)

select * from final
