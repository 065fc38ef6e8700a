# terraform apply -var-file=envs/prod.tfvars   (Cloud Build passes -var=project_id=$PROJECT_ID)
project_id = "execkpi-prod"
env        = "prod"
region     = "europe-west1"

bq_location         = "EU"
bucket_location     = "EU"
topic_prefix        = "execkpi-"
log_level           = "info"
bq_max_bytes_billed = 53687091200 # 50 GiB per query

invokers = [
  "group:execkpi-analysts@example.com",
  "serviceAccount:123456789012@cloudbuild.gserviceaccount.com",
]

cors_origins = ["https://kpi.example.com"]

secret_ids = {
  EXECKPI_API_KEYS = "execkpi-api-keys"
}

# The weekly reports on Mondays at 07:00 in the reporting time zone are events for
# functions/weekly_report (no API key needed, unlike POST /reports/weekly), one per language.
schedules = {
  dbt-build-daily = { function = "dbt_build", schedule = "0 5 * * *", time_zone = "Europe/Berlin" }
  report-week-en  = { event = "weekly-report-requested", schedule = "0 7 * * 1", body = "{\"locale\": \"en-US\"}" }
  report-week-de  = { event = "weekly-report-requested", schedule = "0 7 * * 1", body = "{\"locale\": \"de-DE\"}" }
}

max_delivery_attempts    = 10
artifact_noncurrent_days = 90

labels = { team = "data", cost-center = "analytics" }
