# terraform apply -var-file=envs/dev.tfvars   (Cloud Build passes -var=project_id=$PROJECT_ID)
project_id = "execkpi-dev"
env        = "dev"
region     = "europe-west1"

bq_location     = "EU"
bucket_location = "EU"
topic_prefix    = "execkpi-"
log_level       = "debug"

# Who may call the HTTP functions with an identity token; the Cloud Build account needs it for
# the deploy smoke test. Never allUsers / allAuthenticatedUsers (refused by validation).
invokers = [
  "group:execkpi-dev@example.com",
  "serviceAccount:123456789012@cloudbuild.gserviceaccount.com",
]

cors_origins = ["http://localhost:5173"]

# EXECKPI_API_KEYS from Secret Manager (create the secret and a version first, see README).
secret_ids = {}

# Scheduled builds: functions/dbt_build at 05:00 UTC; the weekly reports on Mondays at 07:00
# in the reporting time zone (no time_zone: var.reporting_time_zone), published as events to
# functions/weekly_report, one per language.
schedules = {
  dbt-build-daily = { function = "dbt_build", schedule = "0 5 * * *", time_zone = "Etc/UTC" }
  report-week-en  = { event = "weekly-report-requested", schedule = "0 7 * * 1", body = "{\"locale\": \"en-US\"}" }
  report-week-de  = { event = "weekly-report-requested", schedule = "0 7 * * 1", body = "{\"locale\": \"de-DE\"}" }
}

labels = { team = "data", cost-center = "analytics-dev" }
