{{ config(**incremental_config('order_id', 'order_date', ['user_id'])) }}
-- One row per order with the revenue it keeps (items not cancelled or returned) and its
-- gross revenue (items not cancelled), for views of the order as it stood before a return,
-- and the product cost of the items it keeps (for gross margin).
-- Incremental (macros/incremental.sql): a later build recomputes the orders that changed
-- within the lookback, themselves or through an item or an item's product.
{%- set stg_orders = ref('stg_thelook__orders') %}
{%- set stg_items = ref('stg_thelook__order_items') %}
{%- set stg_products = ref('stg_thelook__products') %}
with orders as (
    select * from {{ stg_orders }}
    {%- if is_incremental() %}
    where order_id in (
        select changed.order_id from {{ stg_orders }} as changed
        where {{ changed_recently(stg_orders, 'changed') }}
    )
    or order_id in (
        select changed.order_id from {{ stg_items }} as changed
        where {{ changed_recently(stg_items, 'changed') }}
    )
    or order_id in (
        select items.order_id
        from {{ stg_items }} as items
        inner join {{ stg_products }} as changed on items.product_id = changed.product_id
        where changed.ingested_at >= {{ lookback_start(stg_products, 'ingested_at') }}
    )
    {%- endif %}
),

order_items as (
    select * from {{ stg_items }}
    {%- if is_incremental() %}
    where order_id in (select order_id from orders)
    {%- endif %}
),

products as (
    select product_id, cost, ingested_at from {{ stg_products }}
),

item_totals as (
    select
        order_id,
        count(*) as items,
        sum(case when is_revenue then sale_price else 0 end) as revenue,
        sum(case when status <> 'Cancelled' then sale_price else 0 end) as gross_revenue,
        count(case when is_revenue then 1 end) as revenue_items,
        sum(case when status = 'Returned' then sale_price else 0 end) as returned_value,
        sum(case when is_revenue then products.cost else 0 end) as cost_of_revenue,
        max(order_items.changed_at) as changed_at,
        max(order_items.ingested_at) as items_ingested_at,
        max(products.ingested_at) as products_ingested_at
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
        coalesce(item_totals.revenue_items, 0) > 0 as is_revenue_order,
        -- when the order, an item or an item's product last changed (see macros/incremental.sql)
        {{ latest_of('orders.changed_at', ['item_totals.changed_at']) }} as changed_at,
        {{ newest_of(['orders.ingested_at', 'item_totals.items_ingested_at', 'item_totals.products_ingested_at']) }}
            as ingested_at
    from orders
    left join item_totals on orders.order_id = item_totals.order_id
)

select * from final
