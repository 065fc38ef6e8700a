# var.schedules, two kinds of job (a schedule whose function folder does not exist is left out,
# locals.tf):
#
# - HTTP (function): Cloud Scheduler calls the function's run.app URL with an OIDC token of an
#   account that may invoke that function and nothing else. The daily dbt build POSTs "{}" to "/"
#   of functions/dbt_build, which builds once per schedule slot (X-CloudScheduler-ScheduleTime).
# - Event (event): Cloud Scheduler publishes the job's body to the event's topic, and the
#   function subscribed to it gets it through its push subscription (pubsub.tf: OIDC, retries,
#   dead letters). The weekly reports go this way: an HTTP call to the reports function would
#   need an API key where var.secret_ids enables them, and no key belongs in Terraform.

resource "google_service_account" "scheduler" {
  for_each     = local.http_schedules
  project      = var.project_id
  account_id   = "sch-${each.key}-${var.env}"
  display_name = "ExecKPI (${var.env}) scheduler ${each.key}"
  description  = "Cloud Scheduler identity; may invoke the ${each.value.function} function only."
}

resource "google_cloud_run_service_iam_member" "scheduler_invoker" {
  for_each = local.http_schedules
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.value.function].name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler[each.key].member
}

resource "google_cloud_scheduler_job" "this" {
  for_each         = local.http_schedules
  project          = var.project_id
  region           = var.region
  name             = "execkpi-${each.key}"
  description      = "Calls ${each.value.function} on ${each.value.schedule} (${each.value.time_zone})"
  schedule         = each.value.schedule
  time_zone        = each.value.time_zone
  attempt_deadline = each.value.deadline

  retry_config {
    retry_count          = each.value.retry_count
    min_backoff_duration = "60s"
    max_backoff_duration = "600s"
  }

  http_target {
    http_method = "POST"
    uri         = "${google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri}${each.value.path}"
    body        = base64encode(each.value.body)
    headers     = { "Content-Type" = "application/json" }
    oidc_token {
      service_account_email = google_service_account.scheduler[each.key].email
      audience              = google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_service_iam_member.scheduler_invoker]
}

# The message is what common.events.envelope.scheduled_message describes: the payload as body,
# and attributes from which the consumer makes the envelope (id and time: Pub/Sub's own). The
# Cloud Scheduler service agent publishes it; it may publish to the project's topics already, so
# no identity or grant is added here.
resource "google_cloud_scheduler_job" "event" {
  for_each    = local.event_schedules
  project     = var.project_id
  region      = var.region
  name        = "execkpi-${each.key}"
  description = "Publishes ${each.value.event} on ${each.value.schedule} (${each.value.time_zone})"
  schedule    = each.value.schedule
  time_zone   = each.value.time_zone

  retry_config {
    retry_count          = each.value.retry_count
    min_backoff_duration = "60s"
    max_backoff_duration = "600s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.events[each.value.event].id
    data       = base64encode(each.value.body)
    attributes = {
      event_type     = each.value.event
      schema_version = "1"
      scheduled_by   = "execkpi-${each.key}"
    }
  }

  # Nothing is lost between apply and the first run: the subscription exists first.
  depends_on = [google_pubsub_subscription.push]
}
