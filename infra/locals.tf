# Everything here is computed from variables and repository files only (no resource, no data
# source), so the tests can evaluate it with `terraform console` without providers.

locals {
  labels = merge(var.labels, {
    app        = "execkpi"
    env        = var.env
    managed-by = "terraform"
  })

  # Every event the platform publishes: common/events/envelope.py EVENT_TYPES (a test keeps the
  # two lists equal). Topic name = var.topic_prefix + event type, as the code computes it.
  event_types = toset([
    "data-rejected",
    "data-validated",
    "dbt-build-completed",
    "greeting-requested",
    "model-retrain-requested",
    "model-trained",
    "weekly-report-requested",
    "data-ingested",
  ])

  # Dataset names come from the dbt project, so dbt and the functions always agree:
  # <profile dataset>_<model schema> (dbt's default naming), e.g. execkpi_marts.
  dbt_profile  = yamldecode(file("${path.module}/../dbt_project/profiles.yml"))
  dbt_project  = yamldecode(file("${path.module}/../dbt_project/dbt_project.yml"))
  dbt_dataset  = local.dbt_profile.execkpi.outputs.prod.dataset
  dbt_settings = local.dbt_project.models.execkpi
  datasets = {
    raw     = "${local.dbt_dataset}_raw"
    staging = "${local.dbt_dataset}_${local.dbt_settings.staging["+schema"]}"
    marts   = "${local.dbt_dataset}_${local.dbt_settings.marts["+schema"]}"
    ingest  = replace(local.ingested_source.schema, "{{ target.schema }}", local.dbt_dataset)
  }

  # The tables the ingest function curates into the artifact bucket, as the dbt source
  # `ingested` lists them: external tables over ingest/curated/<table>/ (bigquery.tf).
  ingested_source = one(yamldecode(file("${path.module}/../dbt_project/models/staging/thelook/_ingested__sources.yml")).sources)
  ingested_tables = toset([for t in local.ingested_source.tables : t.name])
  # Every Parquet prefix of the artifact bucket BigQuery reads as an external table (bigquery.tf):
  # the prefix, its hive partition key (a date) and the zero-row file that fixes its columns.
  parquet_tables = merge(
    { for t in local.ingested_tables : t => {
      prefix      = "ingest/curated/${t}"
      partition   = "ingested_on"
      schema      = "ingested_schemas/${t}.parquet"
      description = "thelook ${t} rows sent through the ingest function"
    } },
    { conversion_scores = {
      prefix      = "ml/scores/conversion"
      partition   = "snapshot_on"
      schema      = "score_schemas/conversion_scores.parquet"
      description = "The conversion model's scores of every user after each promotion"
    } },
  )

  artifacts_bucket = "${var.project_id}-execkpi-artifacts"
  sources_bucket   = "${var.project_id}-execkpi-sources"
  source_dir       = coalesce(var.source_dir, "${path.module}/../build/functions")

  # The settings every function starts with (common/config.py SETTINGS): production back-ends.
  runtime_env = merge(
    {
      EXECKPI_WAREHOUSE           = "bigquery"
      EXECKPI_BQ_PROJECT          = var.project_id
      EXECKPI_BQ_DATASET          = local.datasets.marts
      EXECKPI_BQ_LOCATION         = var.bq_location
      EXECKPI_BQ_MAX_BYTES_BILLED = tostring(var.bq_max_bytes_billed)
      EXECKPI_ARTIFACTS           = "gcs"
      EXECKPI_BUCKET              = local.artifacts_bucket
      EXECKPI_EVENTS              = "pubsub"
      EXECKPI_PUBSUB_PROJECT      = var.project_id
      EXECKPI_TOPIC_PREFIX        = var.topic_prefix
      EXECKPI_LOG_LEVEL           = var.log_level
      EXECKPI_CURRENCY            = var.currency
      EXECKPI_TIME_ZONE           = var.reporting_time_zone
    },
    length(var.cors_origins) > 0 ? { EXECKPI_CORS_ORIGINS = join(",", var.cors_origins) } : {},
  )

  # --- functions: one entry per functions/<name>/function.yaml ---------------------------------
  # Adding a folder adds a function; nothing below names one. Only the keys read below matter
  # (infra/README.md describes them): others, such as package_include (what the packager copies
  # into the zip), are the other readers' business and ignored here.

  functions_dir = "${path.module}/../functions"
  manifests = {
    for f in fileset(local.functions_dir, "*/function.yaml") :
    dirname(f) => yamldecode(file("${local.functions_dir}/${f}"))
  }

  # trigger: http, {event: <type>}, or {events: [...]} for a function fed by several topics
  # (train: data-validated and model-retrain-requested), as scripts/deploy/catalog.py reads it.
  trigger_events = {
    for name, m in local.manifests : name => tolist(try(m.trigger.events, [m.trigger.event], []))
  }
  # trigger: {storage: landing}: the bucket's object-finalized notifications (landing.tf).
  storage_triggers = {
    for name, m in local.manifests : name => m.trigger.storage if can(m.trigger.storage)
  }
  # Fed by Pub/Sub pushes (events or bucket notifications), not by callers.
  pushed = {
    for name, m in local.manifests : name => length(local.trigger_events[name]) > 0 || can(m.trigger.storage)
  }

  functions = {
    for name, m in local.manifests : name => {
      slug            = replace(name, "_", "-")
      function_name   = "execkpi-${replace(name, "_", "-")}"
      entry_point     = m.entry_point
      description     = m.description
      runtime         = try(m.runtime, var.runtime)
      memory          = m.memory
      timeout_seconds = m.timeout_seconds
      max_instances   = m.max_instances
      # Requests one instance serves at once (Cloud Run needs ≥ 1 vCPU, i.e. ≥ 2Gi, above 1).
      concurrency = try(m.concurrency, 1)
      events      = local.trigger_events[name]
      is_http     = !local.pushed[name]
      # Events an HTTP function also takes as Pub/Sub pushes on POST / (dbt_build: data-ingested).
      push_events = tolist(try(m.push_events, []))
      # Event functions are reached by their Pub/Sub push subscriptions, internal traffic on the
      # run.app URL. HTTP functions (dbt_build included: Cloud Scheduler and var.invokers call
      # it) take identity-token callers from anywhere, IAM being the gate: API Gateway too
      # calls from outside the project's network, with its own identity token.
      ingress = try(m.ingress, local.pushed[name] ? "internal" : "all")
      # The gateway paths it serves ("" = every path no other prefix claims); null: not
      # behind the front door. scripts/deploy/gateway_config.py routes by it.
      path_prefix = try(m.path_prefix, null)
      # false: IAM is its only gate, so the public gateway must not route to it.
      public_gateway = try(m.public_gateway, true)
      # Warehouse/artifact access: none, read or write (see iam.tf for the roles each means).
      warehouse = try(m.permissions.warehouse, "none")
      artifacts = try(m.permissions.artifacts, "none")
      # consume() keeps its idempotency markers under events/<consumer>/: event functions
      # always write there, and only there unless they name more prefixes.
      artifact_prefixes = distinct(concat(
        tolist(try(m.permissions.artifact_prefixes, [])),
        length(local.trigger_events[name]) > 0 ? ["events/${name}/"] : [],
      ))
      publishes = toset(try(m.permissions.publishes, []))
      # Settings read from Secret Manager; mounted only where var.secret_ids names a secret.
      secret_settings = toset(try(
        m.permissions.secrets, local.pushed[name] ? [] : ["EXECKPI_API_KEYS"]
      ))
      source_zip = "${local.source_dir}/${name}.zip"
    }
  }

  # Derived per function: secrets actually mounted, env vars (a secret is never also plain), and
  # the health-safe path the deploy smoke test calls on public HTTP functions.
  function_secrets = {
    for name, f in local.functions : name => {
      for s in f.secret_settings : s => var.secret_ids[s] if contains(keys(var.secret_ids), s)
    }
  }
  function_env = {
    for name, m in local.manifests : name => {
      for k, v in merge(local.runtime_env, { for k, v in try(m.env, {}) : k => tostring(v) }) :
      k => v if !contains(keys(local.function_secrets[name]), k)
    }
  }
  smoke_paths = {
    for name, m in local.manifests : name => try(m.smoke_path, "/")
    if local.functions[name].is_http && local.functions[name].ingress == "all"
  }

  ingress_settings = {
    all      = "ALLOW_ALL"
    internal = "ALLOW_INTERNAL_ONLY"
  }

  event_functions = { for name, f in local.functions : name => f if !f.is_http }
  # Functions Pub/Sub pushes to: event functions, and HTTP functions with push_events. Each gets
  # a push identity and a dead-letter topic.
  subscribers = { for name, f in local.functions : name => f if length(concat(f.events, f.push_events)) > 0 }
  # One push subscription per (function, event) pair.
  subscriptions = merge([
    for name, f in local.subscribers : {
      for e in concat(f.events, f.push_events) : "${name}/${e}" => { function = name, event = e, slug = f.slug, timeout_seconds = f.timeout_seconds, is_http = f.is_http }
    }
  ]...)
  http_functions = { for name, f in local.functions : name => f if f.is_http }
  public_http    = { for name, f in local.http_functions : name => f if f.ingress == "all" }
  # The functions API Gateway routes to (gateway.tf): those with a path_prefix, unless IAM is
  # their only gate (public_gateway: false).
  gateway_backends = {
    for name, f in local.http_functions : name => f if f.path_prefix != null && f.public_gateway
  }

  # Scheduler jobs whose target exists: an HTTP function's folder, or a function subscribed to
  # the event; the rest wait for their function's folder. A job without a time zone runs in the
  # reporting one, where the shop's weeks begin.
  subscribed_events = toset(flatten([for f in values(local.event_functions) : f.events]))
  schedules = {
    for k, s in var.schedules : k => merge(s, { time_zone = coalesce(s.time_zone, var.reporting_time_zone) })
    if(s.event == null ? contains(keys(local.http_functions), s.function) : contains(local.subscribed_events, s.event))
  }
  http_schedules  = { for k, s in local.schedules : k => s if s.event == null }
  event_schedules = { for k, s in local.schedules : k => s if s.event != null }
}
