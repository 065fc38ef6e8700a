{{ config(**partitioned('cohort_week', ['cohort_week'])) }}
{{ retention('week') }}
