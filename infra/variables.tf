variable "project_id" {
  description = "Project that holds every ExecKPI resource (one project per environment)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id (6-30 chars, a-z 0-9 -)."
  }
}

variable "env" {
  description = "Environment name: a label on every resource and part of service account ids."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.env))
    error_message = "env must be 2-8 lowercase letters or digits, starting with a letter (dev, prod)."
  }
}

variable "region" {
  description = "Region of the functions, the scheduler and the subscriptions."
  type        = string
  default     = "europe-west1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1."
  }
}

variable "bq_location" {
  description = "Location of the BigQuery datasets and jobs (EXECKPI_BQ_LOCATION)."
  type        = string
  default     = "EU"
  validation {
    # The same rule as common/config.py, so Terraform never sets a value the functions reject.
    condition     = can(regex("^[A-Za-z]+(-[a-z0-9]+)*$", var.bq_location))
    error_message = "bq_location must be a BigQuery location such as EU, US or europe-west1."
  }
}

variable "bucket_location" {
  description = "Location of the artifact and source buckets; keep it with the datasets."
  type        = string
  default     = "EU"
  validation {
    condition     = can(regex("^[A-Za-z]+(-[a-z0-9]+)*$", var.bucket_location))
    error_message = "bucket_location must be a Cloud Storage location such as EU or europe-west1."
  }
}

variable "topic_prefix" {
  description = "Prefix of every event topic (EXECKPI_TOPIC_PREFIX): topic = prefix + event type."
  type        = string
  default     = "execkpi-"
  validation {
    # common/config.py's rule, and Pub/Sub's: topic names must not start with "goog".
    condition     = can(regex("^([A-Za-z][A-Za-z0-9._~+%-]{0,100})?$", var.topic_prefix)) && !startswith(lower(var.topic_prefix), "goog")
    error_message = "topic_prefix must start with a letter; letters, digits and . _ ~ + % - only."
  }
}

variable "runtime" {
  description = "Cloud Functions runtime of every function whose manifest names none."
  type        = string
  default     = "python311"
  validation {
    condition     = can(regex("^python3[0-9]{2}$", var.runtime))
    error_message = "runtime must be a Python runtime id such as python311."
  }
}

variable "log_level" {
  description = "EXECKPI_LOG_LEVEL of every function."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["debug", "info", "warning", "error"], var.log_level)
    error_message = "log_level must be one of debug, info, warning, error."
  }
}

variable "currency" {
  description = "EXECKPI_CURRENCY: the shop's ISO 4217 currency (thelook's public data is in USD)."
  type        = string
  default     = "USD"
  validation {
    condition     = can(regex("^[A-Z]{3}$", var.currency))
    error_message = "currency must be an ISO 4217 code such as EUR or USD."
  }
}

variable "reporting_time_zone" {
  description = "EXECKPI_TIME_ZONE: the IANA zone where days, weeks and months begin."
  type        = string
  default     = "Europe/Berlin"
  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", var.reporting_time_zone))
    error_message = "reporting_time_zone must be an IANA time zone name such as Europe/Berlin."
  }
}

variable "bq_max_bytes_billed" {
  description = "EXECKPI_BQ_MAX_BYTES_BILLED: hard cap on the bytes one query may bill."
  type        = number
  default     = 10737418240
  validation {
    condition     = var.bq_max_bytes_billed >= 10485760 && var.bq_max_bytes_billed <= 10995116277760
    error_message = "bq_max_bytes_billed must be between 10 MiB and 10 TiB (common/config.py)."
  }
}

variable "cors_origins" {
  description = "Origins the HTTP functions allow (EXECKPI_CORS_ORIGINS); empty: no CORS."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for o in var.cors_origins : can(regex("^https?://[^/]+$", o))])
    error_message = "cors_origins must be origins such as https://app.example.com (no path)."
  }
}

variable "invokers" {
  description = "Principals allowed to call the public HTTP functions (roles/run.invoker)."
  type        = list(string)
  default     = []
  validation {
    # Never public: every caller presents an identity token.
    condition = alltrue([
      for m in var.invokers :
      can(regex("^(user|group|serviceAccount|domain|principal|principalSet):", m))
      && !contains(["allUsers", "allAuthenticatedUsers"], m)
    ])
    error_message = "invokers must be IAM members such as group:analysts@example.com; allUsers and allAuthenticatedUsers are refused."
  }
}

variable "secret_ids" {
  description = <<-EOT
    Secret Manager secret (id, in this project) per setting read from Secret Manager, e.g.
    { EXECKPI_API_KEYS = "execkpi-api-keys" }. The secret and its versions are created outside
    Terraform so that no key ever reaches the state. Empty: no secret is mounted.
  EOT
  type        = map(string)
  default     = {}
  validation {
    condition = alltrue([
      for k, v in var.secret_ids :
      can(regex("^EXECKPI_[A-Z_]+$", k)) && can(regex("^[A-Za-z0-9_-]{1,255}$", v))
    ])
    error_message = "secret_ids maps EXECKPI_* setting names to Secret Manager secret ids."
  }
}

variable "schedules" {
  description = <<-EOT
    Cloud Scheduler jobs. A job either calls one HTTP function with OIDC (function; path and
    body), or publishes an event (event: one of local.event_types; body: its JSON payload) to
    the function subscribed to it, with Pub/Sub's retries and dead letters and no credential to
    send. A job whose function does not exist (yet) in functions/ is not created. Without a
    time_zone, a job runs in the reporting time zone (var.reporting_time_zone): "Monday 07:00"
    is the shop's Monday.
  EOT
  type = map(object({
    function    = optional(string)
    event       = optional(string)
    schedule    = string
    time_zone   = optional(string)
    path        = optional(string, "/")
    body        = optional(string, "{}")
    deadline    = optional(string, "1800s")
    retry_count = optional(number, 1)
  }))
  default = {
    dbt-build-daily = { function = "dbt_build", schedule = "0 5 * * *", time_zone = "Etc/UTC" }
    # The weekly executive report of the last complete week, in each language (weekly_report).
    report-week-en = { event = "weekly-report-requested", schedule = "0 7 * * 1", body = "{\"locale\": \"en-US\"}" }
    report-week-de = { event = "weekly-report-requested", schedule = "0 7 * * 1", body = "{\"locale\": \"de-DE\"}" }
  }
  validation {
    condition = alltrue([
      for k, s in var.schedules :
      can(regex("^[a-z][a-z0-9-]{1,14}$", k))
      && (s.function == null) != (s.event == null)
      && (s.function == null || can(regex("^[a-z][a-z0-9_]*$", s.function)))
      && (s.event == null || can(regex("^[a-z][a-z0-9-]*$", s.event)))
      && length(split(" ", trimspace(s.schedule))) == 5
      && startswith(s.path, "/")
      && s.retry_count >= 0 && s.retry_count <= 5
    ])
    error_message = "schedules: keys a-z0-9- (2-15 chars), either a function (a folder name) or an event (a type), schedule a 5-field cron, path starting with /, retry_count 0-5."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of one event before it goes to the consumer's dead-letter topic."
  type        = number
  default     = 5
  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "artifact_noncurrent_days" {
  description = "Days an overwritten or deleted artifact version is kept before it is deleted."
  type        = number
  default     = 30
  validation {
    condition     = var.artifact_noncurrent_days >= 1 && var.artifact_noncurrent_days <= 3650
    error_message = "artifact_noncurrent_days must be between 1 and 3650."
  }
}

variable "labels" {
  description = "Extra labels for every labelable resource (app, env and managed-by are set)."
  type        = map(string)
  default     = {}
  validation {
    condition = alltrue([
      for k, v in var.labels :
      can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))
    ])
    error_message = "labels: keys start with a lowercase letter; keys and values use a-z 0-9 _ - (max 63)."
  }
}

variable "source_dir" {
  description = "Folder of the zips built by `python -m scripts.deploy.package` (null: ../build/functions)."
  type        = string
  default     = null
}

variable "audit_log_retention_days" {
  description = "Days the audit log bucket keeps each request's audit entry (400: as Google keeps its own Admin Activity audit logs; a year's closing plus a quarter)."
  type        = number
  default     = 400
  validation {
    condition     = var.audit_log_retention_days >= 30 && var.audit_log_retention_days <= 3650
    error_message = "audit_log_retention_days must be between 30 and 3650."
  }
}

variable "default_log_retention_days" {
  description = "Days the _Default log bucket keeps request and application logs (30: Google's default, made explicit; they hold callers' IPs)."
  type        = number
  default     = 30
  validation {
    condition     = var.default_log_retention_days >= 1 && var.default_log_retention_days <= 3650
    error_message = "default_log_retention_days must be between 1 and 3650."
  }
}
