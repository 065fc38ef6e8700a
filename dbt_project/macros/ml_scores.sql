{#- on-run-start: the model's batch scores (source `ml_scores`, _ml_scores__sources.yml), which
    the train function writes after each promotion as Parquet under ml/scores/<model>/ of the
    artifact store. On DuckDB the build copies those under var scores_dir (the pipeline passes
    <EXECKPI_ARTIFACT_DIR>/ml/scores) into a table, as it copies ingested batches: the train
    function never writes the warehouse file, and no scores yet is an empty table. -#}
{% macro create_score_tables() -%}
    {{ return(create_parquet_tables('ml_scores', var('scores_dir', ''), 'snapshot_on')) }}
{%- endmacro %}
