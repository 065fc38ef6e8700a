"""Shared code of the ExecKPI Cloud Functions.

Importing this package (or any of its modules) stays cheap: back-end client libraries
(duckdb, google-cloud-*) are imported only when the back-end that needs them is opened.
"""
