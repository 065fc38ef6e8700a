"""The daily pipeline: dbt build → validation gates → retraining, chained by events.

``builds`` names the run of a schedule slot and summarises dbt's results (the claim that lets
one attempt build it is ``common.runs``'), ``dbt`` runs dbt in process, ``measures`` reads what
the gates need from the marts, ``gates`` judges it, ``quality_report`` assembles the report,
and ``ledger`` reads every stage's records back per run.
"""
