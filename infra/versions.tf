terraform {
  # optional() attributes, startswith() and preconditions need 1.3+; tests evaluate with 1.11.
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.x: google_cloudfunctions2_function service_config, bucket soft-delete and
      # default_labels as used here; a new major version is adopted deliberately.
      version = ">= 6.0.0, < 7.0.0"
    }
    # API Gateway's resources (gateway.tf) exist only in the beta provider; same version line.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.0.0, < 7.0.0"
    }
  }

  # State lives in a GCS bucket made once per project (infra/README.md):
  #   terraform init -backend-config=bucket=<state bucket> -backend-config=prefix=execkpi/<env>
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
  # Belt and braces: labelable resources also set labels explicitly (tests check them).
  default_labels = local.labels
}

provider "google-beta" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}
