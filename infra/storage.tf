# Two private buckets: artifacts (models, run results, idempotency markers) and function sources.
# Neither serves anything publicly: the dashboard is the portal function's (web/dist in its zip),
# served at / of the front door with its own cache headers (common/dashboard.py).

resource "google_storage_bucket" "artifacts" {
  #checkov:skip=CKV_GCP_62:IAM-only private bucket; object access logging is the project's Data Access audit-log policy, not a legacy usage-log bucket.
  project                     = var.project_id
  name                        = local.artifacts_bucket
  location                    = var.bucket_location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true # IAM only, so prefix conditions in iam.tf hold
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  # models/<name>/LATEST is replaced atomically; older generations stay recoverable for a while.
  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.artifact_noncurrent_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  # Idempotency markers only matter longer than the maximum event age (7 days at most).
  lifecycle_rule {
    condition {
      age            = 30
      matches_prefix = ["events/"]
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:IAM-only private bucket; object access logging is the project's Data Access audit-log policy, not a legacy usage-log bucket.
  project                     = var.project_id
  name                        = local.sources_bucket
  location                    = var.bucket_location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  versioning {
    enabled = true
  }

  # Objects are named by content hash: an old zip is only needed to redeploy an old revision.
  lifecycle_rule {
    condition {
      age = 180
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 7
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

# build/functions/<name>.zip from `python -m scripts.deploy.package`: deterministic bytes, so
# the object name (content hash) changes exactly when the code does, and so does the function.
resource "google_storage_bucket_object" "source" {
  for_each = local.functions
  bucket   = google_storage_bucket.sources.name
  name     = "functions/${each.key}/${fileexists(each.value.source_zip) ? filemd5(each.value.source_zip) : "missing"}.zip"
  source   = each.value.source_zip

  lifecycle {
    precondition {
      condition     = fileexists(each.value.source_zip)
      error_message = "${each.value.source_zip} is missing: run `python -m scripts.deploy.package` first."
    }
  }
}
