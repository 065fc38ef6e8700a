# One Cloud Function (2nd gen) per functions/<name>/function.yaml (locals.tf). Event functions
# are HTTP-reachable only from inside Google (ingress internal) and are fed by their push
# subscription in pubsub.tf; the @functions_framework.cloud_event decorator makes them
# CloudEvent functions whatever the trigger says.

resource "google_cloudfunctions2_function" "fn" {
  #checkov:skip=CKV_GCP_124:Public HTTP functions take identity-token callers (API Gateway's included) from outside Google; IAM is the gate, never allUsers; event functions are ALLOW_INTERNAL_ONLY.
  for_each    = local.functions
  project     = var.project_id
  location    = var.region
  name        = each.value.function_name
  description = each.value.description
  labels      = merge(local.labels, { function = each.value.slug })

  build_config {
    runtime         = each.value.runtime
    entry_point     = each.value.entry_point
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    timeout_seconds                  = each.value.timeout_seconds
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    min_instance_count               = 0
    ingress_settings                 = local.ingress_settings[each.value.ingress]
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.runtime[each.key].email
    environment_variables            = local.function_env[each.key]

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets[each.key]
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  lifecycle {
    precondition {
      condition     = contains(keys(local.ingress_settings), each.value.ingress)
      error_message = "${each.key}: ingress must be one of ${join(", ", keys(local.ingress_settings))}."
    }
    precondition {
      condition     = alltrue([for e in each.value.events : contains(local.event_types, e)])
      error_message = "${each.key}: a trigger event has no topic (locals.tf event_types)."
    }
    precondition {
      # API Gateway calls from outside the project's network: internal ingress would refuse it.
      condition     = each.value.path_prefix == null || each.value.ingress == "all"
      error_message = "${each.key}: a function behind the front door (path_prefix) needs ingress all."
    }
  }

  depends_on = [
    google_project_service.this,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_sources,
    google_secret_manager_secret_iam_member.runtime,
  ]
}
