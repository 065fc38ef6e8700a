"""The marts: the tables dbt builds for the product to read, named once.

The validation gate counts the rows of each; the KPIs name their tables through
``Dialect.table``, which refuses any other name. dbt defines each as a model under
dbt_project/models/marts, and tests/unit/test_dbt_names.py keeps that folder and this list equal.
"""

MARTS = (
    "ab_assignments",
    "ab_experiments",
    "ab_metrics",
    "ab_metrics_by_dimension",
    "ab_metrics_cumulative",
    "channel_performance",
    "customer_ltv",
    "customer_revenue_daily",
    "customers_by_period",
    "experiment_variants",
    "experiments",
    "features_conversion",
    "funnel",
    "ml_score_calibration",
    "retention_monthly",
    "retention_weekly",
    "revenue_daily",
    "revenue_monthly",
    "rfm_segments",
)

# Their size follows the experiments, not the shop's data: a new definition (experiments,
# experiment_variants), or a running one's next day (ab_metrics_cumulative, ab_assignments),
# adds rows by design. The validation gate reports how they changed but does not judge the
# change (an empty one still fails). dbt keeps them under models/marts/experiments.
SIZED_BY_EXPERIMENTS = frozenset(m for m in MARTS if m.startswith(("ab_", "experiment")))

# Filled by the model's batch scores after each promotion, not by the shop's data: empty until
# the first promotion, which itself waits for validated data. The validation gate reports its
# rows but judges neither their change nor their absence.
SCORED_BY_THE_MODEL = frozenset({"ml_score_calibration"})
