"""Data protection: the right to erasure.

``erasures`` records erasure requests in the warehouse and reads them back; ``completion``
proves, after a build, that no mart holds an erased user any more and marks their requests
completed. The build leaves erased users out of staging (dbt_project/macros/privacy.sql).
"""
