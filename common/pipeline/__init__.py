"""The daily pipeline: dbt build → validation gates → retraining, chained by events.

``builds`` claims one build per schedule slot and summarises dbt's results, ``dbt`` runs dbt in
process, ``measures`` reads what the gates need from the marts, ``gates`` judges it,
``validation`` assembles the report, and ``ledger`` reads every stage's records back per run.
"""
