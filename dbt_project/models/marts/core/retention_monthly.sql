{{ config(**partitioned('cohort_month', ['cohort_month'])) }}
{{ retention('month') }}
