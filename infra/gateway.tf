# The front door: one Google API Gateway origin for every HTTP route, configured by
# api/gateway.yaml.tftpl. That OpenAPI 2.0 document is derived from the API description
# (common/openapi) by scripts/deploy/gateway_config.py (`./dev api-config`, committed), which
# sends each path to the function whose path_prefix matches it longest; here only the
# functions' URLs are filled in. The gateway calls each function with an OIDC token of its own
# service account, invoker of exactly the functions it routes to (local.gateway_backends).

resource "google_service_account" "gateway" {
  project      = var.project_id
  account_id   = "gateway-${var.env}"
  display_name = "ExecKPI (${var.env}) API Gateway"
  description  = "The identity API Gateway presents to the functions it routes to; invoker of those only."
}

resource "google_cloud_run_service_iam_member" "gateway_invoker" {
  for_each = local.gateway_backends
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.gateway.member
}

resource "google_api_gateway_api" "this" {
  provider     = google-beta
  project      = var.project_id
  api_id       = "execkpi"
  display_name = "ExecKPI API (${var.env})"
  labels       = local.labels

  depends_on = [google_project_service.this]
}

resource "google_api_gateway_api_config" "this" {
  provider = google-beta
  project  = var.project_id
  api      = google_api_gateway_api.this.api_id
  # A config is immutable: a new description or URL makes a new one, under a fresh id, before
  # the gateway lets go of the old one (create_before_destroy).
  api_config_id_prefix = "execkpi-"
  display_name         = "ExecKPI API (${var.env})"
  labels               = local.labels

  openapi_documents {
    document {
      path = "gateway.yaml"
      contents = base64encode(templatefile("${path.module}/api/gateway.yaml.tftpl", {
        for name in keys(local.gateway_backends) :
        "backend_${name}" => google_cloudfunctions2_function.fn[name].service_config[0].uri
      }))
    }
  }

  gateway_config {
    backend_config {
      google_service_account = google_service_account.gateway.email
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_api_gateway_gateway" "this" {
  provider     = google-beta
  project      = var.project_id
  region       = var.region
  gateway_id   = "execkpi"
  display_name = "ExecKPI (${var.env})"
  api_config   = google_api_gateway_api_config.this.id
  labels       = local.labels

  # Serving before the invoker grants exist would answer 403 from every function.
  depends_on = [google_cloud_run_service_iam_member.gateway_invoker]
}
