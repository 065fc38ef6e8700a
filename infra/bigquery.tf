# raw: copies of thelook (the public dataset is in the US: an EU warehouse reads a copy here);
# staging and marts: written by dbt (`<dataset>_staging`, `<dataset>_marts`, see locals.tf).
# Access is granted per dataset in iam.tf, never by project-wide data roles.

locals {
  dataset_descriptions = {
    raw     = "thelook eCommerce source tables (copies of bigquery-public-data.thelook_ecommerce)"
    staging = "dbt staging and intermediate models"
    marts   = "dbt marts and seeds: what the KPI, A/B-test and model functions read"
    ingest  = "External tables over Parquet in the artifact bucket: the ingest function's curated batches, the model's scores"
  }
}

resource "google_bigquery_dataset" "this" {
  #checkov:skip=CKV_GCP_81:Google-managed encryption; the data is derived from a public dataset, CMEK adds key management without a threat it answers.
  for_each      = local.datasets
  project       = var.project_id
  dataset_id    = each.value
  friendly_name = each.value
  description   = local.dataset_descriptions[each.key]
  location      = var.bq_location
  labels        = merge(local.labels, { layer = each.key })

  # dbt rebuilds staging and marts; raw is reloaded. Losing a table by `terraform destroy` is
  # still never silent.
  delete_contents_on_destroy = false

  depends_on = [google_project_service.this]
}

# --- Parquet in the artifact bucket, read as external tables ----------------------------------
# The ingest function writes one Parquet object per accepted batch and table, once, under
# ingest/curated/<table>/ingested_on=<day>/ of the artifact bucket; dbt's staging reads these
# external tables alongside thelook (dbt source `ingested`). After each promotion the train
# function scores every user of the latest feature snapshot into one object under
# ml/scores/conversion/snapshot_on=<day>/ (common/ml/batch_scores.py; dbt source `ml_scores`).
# External tables rather than load jobs: a batch is in the next build without a loader to run,
# track and retry, and nothing is stored twice; the price is that each build reads every object
# again (a few MB for a shop's orders; the thelook tables dwarf it). Each table's schema comes
# from a zero-row object Terraform places first (scripts/deploy/ingested_schemas.py), so a table
# with no object yet reads as empty instead of failing on a wildcard that matches nothing.

resource "google_storage_bucket_object" "parquet_schema" {
  for_each     = local.parquet_tables
  bucket       = google_storage_bucket.artifacts.name
  name         = "${each.value.prefix}/${each.value.partition}=1970-01-01/schema.parquet"
  source       = "${path.module}/${each.value.schema}"
  content_type = "application/vnd.apache.parquet"
}

resource "google_bigquery_table" "parquet" {
  #checkov:skip=CKV_GCP_80:An external table stores nothing: the rows are objects in the artifact bucket, encrypted there.
  #checkov:skip=CKV_GCP_121:An external table holds no rows, so dropping it loses nothing; Terraform replaces it when the columns change.
  for_each    = local.parquet_tables
  project     = var.project_id
  dataset_id  = google_bigquery_dataset.this["ingest"].dataset_id
  table_id    = each.key
  description = "${each.value.description}: gs://${google_storage_bucket.artifacts.name}/${each.value.prefix}/"
  labels      = merge(local.labels, { layer = "ingest" })

  deletion_protection = false # the objects are the data (see the checkov note above)

  external_data_configuration {
    source_format             = "PARQUET"
    autodetect                = true # Parquet carries its schema; the reference file fixes it
    source_uris               = ["gs://${google_storage_bucket.artifacts.name}/${each.value.prefix}/*"]
    reference_file_schema_uri = "gs://${google_storage_bucket.artifacts.name}/${google_storage_bucket_object.parquet_schema[each.key].name}"

    hive_partitioning_options {
      mode                     = "CUSTOM"
      source_uri_prefix        = "gs://${google_storage_bucket.artifacts.name}/${each.value.prefix}/{${each.value.partition}:DATE}"
      require_partition_filter = false # staging reads every object
    }
  }
}

# Addresses of the ingested tables before the scores joined them.
moved {
  from = google_storage_bucket_object.ingested_schema
  to   = google_storage_bucket_object.parquet_schema
}

moved {
  from = google_bigquery_table.ingested
  to   = google_bigquery_table.parquet
}
