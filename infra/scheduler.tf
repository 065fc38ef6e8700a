# Daily dbt build (and any other var.schedules entry): Cloud Scheduler calls the function's
# run.app URL with an OIDC token of an account that may invoke that function and nothing else.
# The default job POSTs "{}" to "/" of functions/dbt_build, which builds once per schedule slot
# (read from the X-CloudScheduler-ScheduleTime header); the weekly report jobs POST a locale
# to /reports/weekly of functions/reports. A schedule whose function folder does not exist is
# left out (locals.tf).

resource "google_service_account" "scheduler" {
  for_each     = local.schedules
  project      = var.project_id
  account_id   = "sch-${each.key}-${var.env}"
  display_name = "ExecKPI (${var.env}) scheduler ${each.key}"
  description  = "Cloud Scheduler identity; may invoke the ${each.value.function} function only."
}

resource "google_cloud_run_service_iam_member" "scheduler_invoker" {
  for_each = local.schedules
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.value.function].name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler[each.key].member
}

resource "google_cloud_scheduler_job" "this" {
  for_each         = local.schedules
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
