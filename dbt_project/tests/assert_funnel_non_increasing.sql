-- Each funnel step is reached by no more sessions than the step before it.
select *
from {{ ref('funnel') }}
where department_sessions > home_sessions
    or product_sessions > department_sessions
    or cart_sessions > product_sessions
    or purchase_sessions > cart_sessions
