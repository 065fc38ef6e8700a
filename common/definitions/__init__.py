"""Experiment definitions as data: written through the A/B API, versioned in the artifact store
(``store``), checked by ``spec`` and ``changes``, and copied into the warehouse's staging schema
before every build (``staging``), where dbt reads them. The seed files are the initial content."""
