# One topic per event type; each event function gets a push subscription per trigger event, with
# retries, and its own dead-letter topic. Pub/Sub delivers straight to the function's run.app URL ("direct
# Pub/Sub trigger") rather than through an Eventarc trigger: Eventarc manages its subscription
# itself and Terraform cannot give it a dead-letter policy. The push body is what
# functions-framework turns into the same CloudEvent, and what the local stack's emulator sends.

resource "google_pubsub_topic" "events" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; event envelopes carry ids and run metadata, no personal data.
  for_each                   = local.event_types
  project                    = var.project_id
  name                       = "${var.topic_prefix}${each.value}"
  labels                     = merge(local.labels, { event = each.value })
  message_retention_duration = "86400s" # replay window (seek) = the default maximum event age

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; event envelopes carry ids and run metadata, no personal data.
  for_each                   = local.subscribers
  project                    = var.project_id
  name                       = "${var.topic_prefix}dead-letter-${each.value.slug}"
  labels                     = merge(local.labels, { function = each.value.slug })
  message_retention_duration = "604800s"

  depends_on = [google_project_service.this]
}

# A topic without a subscription drops what it receives: this one keeps dead letters 7 days for
# inspection and replay (`gcloud pubsub subscriptions pull`).
resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = local.subscribers
  project                    = var.project_id
  name                       = "${google_pubsub_topic.dead_letter[each.key].name}-hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  labels                     = merge(local.labels, { function = each.value.slug })
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = "" # never expires for lack of activity
  }
}

resource "google_pubsub_subscription" "push" {
  for_each = local.subscriptions
  project  = var.project_id
  name     = "${var.topic_prefix}${each.value.slug}-on-${each.value.event}"
  topic    = google_pubsub_topic.events[each.value.event].id
  labels   = merge(local.labels, { function = each.value.slug, event = each.value.event })

  # How long Pub/Sub waits for the function's answer before it counts a failed delivery.
  ack_deadline_seconds       = min(600, max(10, each.value.timeout_seconds))
  message_retention_duration = "604800s"

  push_config {
    # The topic in the path lets functions-framework name the CloudEvent's source; an HTTP
    # function takes the push body on POST / (dbt_build: common/pipeline/pending.py).
    push_endpoint = "${google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri}${each.value.is_http ? "/" : "/projects/${var.project_id}/topics/${google_pubsub_topic.events[each.value.event].name}"}"
    oidc_token {
      service_account_email = google_service_account.trigger[each.value.function].email
      audience              = google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri
    }
  }

  # Transient errors raise in the handler (common.events.consumer), so Pub/Sub retries with
  # backoff; after max_delivery_attempts the event goes to the dead-letter topic.
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.function].id
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

# Dead-lettering is done by the Pub/Sub service agent: it must publish to the dead-letter topic
# and acknowledge on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_agent" {
  for_each = local.subscribers
  project  = var.project_id
  topic    = google_pubsub_topic.dead_letter[each.key].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_agent" {
  for_each     = local.subscriptions
  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
