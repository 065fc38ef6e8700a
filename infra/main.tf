# ExecKPI on Google Cloud: the functions in functions/*/function.yaml, the event topics of
# common/events/envelope.py, a daily dbt build, the artifact bucket and the BigQuery datasets.
# One file per concern: functions.tf, iam.tf, pubsub.tf, scheduler.tf, storage.tf, bigquery.tf,
# gateway.tf (the front door: one origin for every HTTP route);
# locals.tf derives everything from the manifests and the dbt project.

locals {
  services = toset([
    "apigateway.googleapis.com",       # the front door (gateway.tf)
    "artifactregistry.googleapis.com", # function images
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com", # function builds
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com", # 2nd gen functions are Cloud Run services
    "secretmanager.googleapis.com",
    "servicecontrol.googleapis.com",    # API Gateway reports each call to it
    "servicemanagement.googleapis.com", # API Gateway's configs are managed services
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "this" {
  for_each = local.services
  project  = var.project_id
  service  = each.value
  # Other workloads in the project may use the same APIs: never switch them off on destroy.
  disable_on_destroy = false
}

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # Google-managed identities that need grants on our resources.
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
