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

# The weekly report jobs (see variables.tf) are left out here: with API keys enabled the
# reports function refuses a caller without X-API-Key, and Cloud Scheduler has none to send.
schedules = {
  dbt-build-daily = { function = "dbt_build", schedule = "0 5 * * *", time_zone = "Europe/Berlin" }
}

max_delivery_attempts    = 10
artifact_noncurrent_days = 90

labels = { team = "data", cost-center = "analytics" }
