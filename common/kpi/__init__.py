"""Named KPIs over the dbt marts.

``catalogue`` defines every KPI once (its parameters, columns and one SQL builder written
against a small ``dialect`` interface, rendered for DuckDB or BigQuery), ``params`` validates
what a client sends, and ``service`` runs a KPI with bound parameters, a byte-cost guard on
BigQuery and a TTL cache keyed by the data version.
"""
