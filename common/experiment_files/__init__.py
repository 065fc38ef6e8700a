"""A per-user experiment file (CSV, gzip-compressed CSV or Parquet) analysed end to end: the
upload streamed to a temporary file (``upload``), the column mapping from the query string
(``mapping``), its columns into DuckDB checked against its schema (``load``), the rows reduced
to each arm's sufficient statistics under the data-quality rules (``aggregate``), and those
statistics analysed as POST /ab/analyze would (``analysis``).
"""
