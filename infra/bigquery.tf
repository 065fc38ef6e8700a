# raw: copies of thelook (the public dataset is in the US: an EU warehouse reads a copy here);
# staging and marts: written by dbt (`<dataset>_staging`, `<dataset>_marts`, see locals.tf).
# Access is granted per dataset in iam.tf, never by project-wide data roles.

locals {
  dataset_descriptions = {
    raw     = "thelook eCommerce source tables (copies of bigquery-public-data.thelook_ecommerce)"
    staging = "dbt staging and intermediate models"
    marts   = "dbt marts and seeds: what the KPI, A/B-test and model functions read"
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
