"""The experiment and weekly executive PDF reports: their content read through the code paths
the API answers from (``content``), formatted for a locale (``formats``, ``texts``), drawn with
ReportLab (``pdf``, imported on the first report only) and kept as immutable artifacts
(``store``)."""
