"""thelook's traffic sources, named once for the KPIs, the model's features and the generator.

dbt cannot import Python: dbt_project.yml repeats them as the vars ``event_traffic_sources``
and ``user_traffic_sources`` (its tests and the feature columns read those), and
tests/unit/test_dbt_names.py keeps the two equal.
"""

# Where a web session came from (events.traffic_source).
EVENT_TRAFFIC_SOURCES = ("Email", "Adwords", "Organic", "YouTube", "Facebook")
# How a user was acquired (users.traffic_source, the KPIs' acquisition channel).
USER_TRAFFIC_SOURCES = ("Search", "Organic", "Facebook", "Email", "Display")
