output "function_urls" {
  description = "run.app URL of every function (what callers, Pub/Sub and Cloud Scheduler use)."
  value       = { for name, fn in google_cloudfunctions2_function.fn : name => fn.service_config[0].uri }
}

output "smoke_targets" {
  description = "Public HTTP functions and the health-safe path scripts/deploy/smoke_test.py calls on each."
  value = {
    for name, path in local.smoke_paths : name => {
      url  = google_cloudfunctions2_function.fn[name].service_config[0].uri
      path = path
    } if path != null
  }
}

output "function_service_accounts" {
  description = "Runtime service account of every function."
  value       = { for name, sa in google_service_account.runtime : name => sa.email }
}

output "topics" {
  description = "Topic of every event type."
  value       = { for event, topic in google_pubsub_topic.events : event => topic.name }
}

output "dead_letter_subscriptions" {
  description = "Where each event function's undeliverable events wait (pull to inspect)."
  value       = { for name, sub in google_pubsub_subscription.dead_letter : name => sub.name }
}

output "artifacts_bucket" {
  description = "EXECKPI_BUCKET of every function."
  value       = google_storage_bucket.artifacts.name
}

output "sources_bucket" {
  description = "Bucket of the content-addressed function zips."
  value       = google_storage_bucket.sources.name
}

output "datasets" {
  description = "BigQuery datasets by layer (raw, staging, marts)."
  value       = { for layer, ds in google_bigquery_dataset.this : layer => ds.dataset_id }
}

output "scheduler_jobs" {
  description = "Cloud Scheduler jobs created (empty until their target function exists)."
  value = merge(
    { for key, job in google_cloud_scheduler_job.this : key => job.name },
    { for key, job in google_cloud_scheduler_job.event : key => job.name },
  )
}

output "gateway_url" {
  description = "The front door: every HTTP route of every function behind one origin (gateway.tf)."
  value       = "https://${google_api_gateway_gateway.this.default_hostname}"
}

output "audit_log_bucket" {
  description = "The log bucket holding every request's audit entry (Logs Explorer: refine scope to it)."
  value       = google_logging_project_bucket_config.audit.id
}

output "dashboard_url" {
  description = "The dashboard: the portal function serves web/dist (built by Cloud Build's web-build step, shipped in its zip) at / of the front door; no bucket serves it."
  value       = "https://${google_api_gateway_gateway.this.default_hostname}/"
}

output "landing_buckets" {
  description = "Where shops drop files to ingest, <table>/<file> (landing.tf), by the name their function's trigger gives."
  value       = { for k, b in google_storage_bucket.landing : k => b.name }
}
