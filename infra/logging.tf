# How long logs are kept. The HTTP functions write one audit entry per KPI, A/B and model
# request (common/audit.py: a JSON line on stdout labelled log_type=audit); a project sink routes
# those to their own log bucket, kept var.audit_log_retention_days. Everything else (request
# logs with callers' IPs, application logs, the audit entries' copy) stays in the _Default
# bucket for var.default_log_retention_days, set here explicitly instead of left to Google's
# default. Google's own Admin Activity audit logs stay in _Required (400 days, not changeable).

resource "google_logging_project_bucket_config" "audit" {
  project        = var.project_id
  location       = var.region # with the functions, in the EU by default
  bucket_id      = "execkpi-audit"
  description    = "ExecKPI (${var.env}) audit entries of every KPI, A/B and model request."
  retention_days = var.audit_log_retention_days

  depends_on = [google_project_service.this]
}

# _Default exists in every project: this adopts it and sets its retention; destroying the
# resource leaves the bucket as it is.
resource "google_logging_project_bucket_config" "default" {
  project        = var.project_id
  location       = "global"
  bucket_id      = "_Default"
  retention_days = var.default_log_retention_days

  depends_on = [google_project_service.this]
}

resource "google_logging_project_sink" "audit" {
  project     = var.project_id
  name        = "execkpi-audit"
  description = "The functions' audit entries (label log_type=audit) to the audit log bucket."
  destination = "logging.googleapis.com/${google_logging_project_bucket_config.audit.id}"
  filter      = "labels.log_type=\"audit\"" # common/audit.py AUDIT_LABELS
  # A bucket of the same project needs no grant to the sink's writer identity.
  unique_writer_identity = true
}
