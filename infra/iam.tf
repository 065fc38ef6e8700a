# Least privilege, one service account per function. What a function may touch comes from its
# manifest's `permissions` (locals.tf); this file turns that into roles:
#
#   warehouse: read   BigQuery job user (project) + data viewer on the marts dataset
#   warehouse: write  job user + viewer on raw + editor on staging and marts (dbt)
#                     + viewer on ingest (its external tables read the bucket as the caller,
#                     whose artifacts access covers ingest/curated/)
#   artifacts: read   object viewer on the artifact bucket
#   artifact_prefixes object user on the bucket, only for object names under those prefixes
#   publishes         publisher on exactly those topics
#   secrets           secret accessor on exactly those secrets
#
# No binding anywhere names allUsers or allAuthenticatedUsers (variables.tf refuses them).

locals {
  warehouse_roles = {
    none  = {}
    read  = { marts = "roles/bigquery.dataViewer" }
    write = { raw = "roles/bigquery.dataViewer", ingest = "roles/bigquery.dataViewer", staging = "roles/bigquery.dataEditor", marts = "roles/bigquery.dataEditor" }
  }

  warehouse_users = { for name, f in local.functions : name => f if f.warehouse != "none" }

  dataset_grants = merge([
    for name, f in local.warehouse_users : {
      for layer, role in local.warehouse_roles[f.warehouse] :
      "${name}/${layer}" => { function = name, dataset = layer, role = role }
    }
  ]...)

  artifact_readers = { for name, f in local.functions : name => f if contains(["read", "write"], f.artifacts) }
  artifact_writers = { for name, f in local.functions : name => f if length(f.artifact_prefixes) > 0 }

  topic_publishers = merge([
    for name, f in local.functions : {
      for e in f.publishes : "${name}/${e}" => { function = name, event = e }
    }
  ]...)

  secret_grants = merge([
    for name, secrets in local.function_secrets : {
      for setting, secret in secrets : "${name}/${setting}" => { function = name, secret = secret }
    }
  ]...)

  http_invokers = merge([
    for name, f in local.public_http : {
      for m in var.invokers : "${name}/${m}" => { function = name, member = m }
    }
  ]...)

  build_roles = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])
}

# --- identities ------------------------------------------------------------------------------

resource "google_service_account" "runtime" {
  for_each     = local.functions
  project      = var.project_id
  account_id   = "fn-${each.value.slug}-${var.env}"
  display_name = "ExecKPI ${each.key} (${var.env}) runtime"
  description  = "Runs the ${each.key} function; roles from its manifest permissions."

  lifecycle {
    precondition {
      condition     = length("fn-${each.value.slug}-${var.env}") <= 30
      error_message = "${each.key}: service account id fn-${each.value.slug}-${var.env} is over 30 characters; shorten the folder name."
    }
    precondition {
      condition     = contains(keys(local.warehouse_roles), each.value.warehouse) && contains(["none", "read", "write"], each.value.artifacts)
      error_message = "${each.key}: permissions.warehouse and permissions.artifacts must be none, read or write."
    }
    precondition {
      condition     = each.value.artifacts != "write" || length(each.value.artifact_prefixes) > 0
      error_message = "${each.key}: permissions.artifacts is write but names no artifact_prefixes."
    }
    precondition {
      condition     = alltrue([for e in each.value.publishes : contains(local.event_types, e)])
      error_message = "${each.key}: permissions.publishes names an event type without a topic."
    }
  }
}

# The identity Pub/Sub presents (OIDC) when it pushes events to a function (local.subscribers).
resource "google_service_account" "trigger" {
  for_each     = local.subscribers
  project      = var.project_id
  account_id   = "ps-${each.value.slug}-${var.env}"
  display_name = "ExecKPI ${each.key} (${var.env}) Pub/Sub push"
  description  = "Pub/Sub push identity; may invoke the ${each.key} function only."
}

# Builds the function images instead of the default Compute Engine account (often Editor).
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "fn-build-${var.env}"
  display_name = "ExecKPI (${var.env}) function builds"
}

resource "google_project_iam_member" "build" {
  for_each = local.build_roles
  project  = var.project_id
  role     = each.value
  member   = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

# --- BigQuery ---------------------------------------------------------------------------------

resource "google_project_iam_member" "bigquery_job_user" {
  for_each = local.warehouse_users
  project  = var.project_id
  role     = "roles/bigquery.jobUser" # run query jobs; data access is per dataset below
  member   = google_service_account.runtime[each.key].member
}

resource "google_bigquery_dataset_iam_member" "runtime" {
  for_each   = local.dataset_grants
  project    = var.project_id
  dataset_id = google_bigquery_dataset.this[each.value.dataset].dataset_id
  role       = each.value.role
  member     = google_service_account.runtime[each.value.function].member
}

# --- artifacts --------------------------------------------------------------------------------

resource "google_storage_bucket_iam_member" "artifact_reader" {
  for_each = local.artifact_readers
  bucket   = google_storage_bucket.artifacts.name
  role     = "roles/storage.objectViewer"
  member   = google_service_account.runtime[each.key].member
}

resource "google_storage_bucket_iam_member" "artifact_writer" {
  for_each = local.artifact_writers
  bucket   = google_storage_bucket.artifacts.name
  role     = "roles/storage.objectUser" # create, overwrite (LATEST pointers), delete, read
  member   = google_service_account.runtime[each.key].member

  condition {
    title       = "prefixes-${each.value.slug}"
    description = "Objects under ${join(", ", each.value.artifact_prefixes)} only"
    expression = join(" || ", [
      for p in each.value.artifact_prefixes :
      "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.artifacts.name}/objects/${p}\")"
    ])
  }
}

# --- events, secrets, invocation --------------------------------------------------------------

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.topic_publishers
  project  = var.project_id
  topic    = google_pubsub_topic.events[each.value.event].name
  role     = "roles/pubsub.publisher"
  member   = google_service_account.runtime[each.value.function].member
}

resource "google_secret_manager_secret_iam_member" "runtime" {
  for_each  = local.secret_grants
  project   = var.project_id
  secret_id = each.value.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.runtime[each.value.function].member
}

resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = local.http_invokers
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.value.function].name
  role     = "roles/run.invoker"
  member   = each.value.member
}

resource "google_cloud_run_service_iam_member" "trigger_invoker" {
  for_each = local.subscribers
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.trigger[each.key].member
}

# Pub/Sub mints the push OIDC tokens as the trigger account (needed explicitly in projects
# created before April 2021; harmless after).
resource "google_service_account_iam_member" "pubsub_token_creator" {
  for_each           = local.subscribers
  service_account_id = google_service_account.trigger[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}
