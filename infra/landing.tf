# Landing buckets: files a shop drops to be ingested, <table>/<file> (functions/ingest_landing,
# trigger: {storage: landing}). Each finalized object is a notification on the bucket's topic;
# a push subscription delivers it to the function, with retries and the function's dead-letter
# topic as for events (pubsub.tf). Pub/Sub notifications rather than an Eventarc trigger for
# the same reason: Terraform can give the subscription a dead-letter policy.

locals {
  landing_buckets = toset(values(local.storage_triggers))
}

resource "google_storage_bucket" "landing" {
  #checkov:skip=CKV_GCP_62:IAM-only private bucket; object access logging is the project's Data Access audit-log policy, not a legacy usage-log bucket.
  for_each                    = local.landing_buckets
  project                     = var.project_id
  name                        = "${var.project_id}-execkpi-${each.key}"
  location                    = var.bucket_location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  versioning {
    enabled = true
  }

  # A landed file is kept as received under ingest/raw/ in the artifact bucket once ingested.
  lifecycle_rule {
    condition {
      age = 30
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

resource "google_pubsub_topic" "landing" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; notifications carry object names and metadata, not the files.
  for_each                   = local.landing_buckets
  project                    = var.project_id
  name                       = "${var.topic_prefix}${each.key}-object-finalized"
  labels                     = merge(local.labels, { bucket = each.key })
  message_retention_duration = "86400s"

  depends_on = [google_project_service.this]
}

data "google_storage_project_service_account" "this" {
  project = var.project_id
}

# Cloud Storage's service agent publishes the bucket's notifications.
resource "google_pubsub_topic_iam_member" "landing_notifier" {
  for_each = local.landing_buckets
  project  = var.project_id
  topic    = google_pubsub_topic.landing[each.key].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${data.google_storage_project_service_account.this.email_address}"
}

resource "google_storage_notification" "landing" {
  for_each       = local.landing_buckets
  bucket         = google_storage_bucket.landing[each.key].name
  payload_format = "JSON_API_V1"
  topic          = google_pubsub_topic.landing[each.key].id
  event_types    = ["OBJECT_FINALIZE"]

  depends_on = [google_pubsub_topic_iam_member.landing_notifier]
}

resource "google_pubsub_subscription" "landing_push" {
  for_each = local.storage_triggers # function => bucket
  project  = var.project_id
  name     = "${var.topic_prefix}${local.functions[each.key].slug}-on-${each.value}-files"
  topic    = google_pubsub_topic.landing[each.value].id
  labels   = merge(local.labels, { function = local.functions[each.key].slug, bucket = each.value })

  ack_deadline_seconds       = min(600, max(10, local.functions[each.key].timeout_seconds))
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.fn[each.key].service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.landing[each.value].name}"
    oidc_token {
      service_account_email = google_service_account.trigger[each.key].email
      audience              = google_cloudfunctions2_function.fn[each.key].service_config[0].uri
    }
  }

  # A file that can never be ingested is recorded and acknowledged by the function; transient
  # errors fail the delivery, so Pub/Sub retries, then dead-letters.
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_service_iam_member.trigger_invoker,
    google_pubsub_topic_iam_member.dead_letter_agent,
  ]
}

resource "google_pubsub_subscription_iam_member" "landing_dead_letter_agent" {
  for_each     = local.storage_triggers
  project      = var.project_id
  subscription = google_pubsub_subscription.landing_push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# The function reads its landing bucket, and nothing else there.
resource "google_storage_bucket_iam_member" "landing_reader" {
  for_each = local.storage_triggers
  bucket   = google_storage_bucket.landing[each.value].name
  role     = "roles/storage.objectViewer"
  member   = google_service_account.runtime[each.key].member
}
