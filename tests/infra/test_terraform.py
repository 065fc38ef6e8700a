"""infra/ and cloudbuild.yaml against the code: parsed with python-hcl2 and PyYAML, no providers.

Terraform derives its functions from functions/*/function.yaml, so most checks here prove that
the derivation is wired (one entry per manifest, entry point and trigger taken from it) and that
what the code needs (topics, settings, back-end access) is what Terraform grants. Where the
`terraform` binary is installed, the locals are also evaluated for real with `terraform console`
(no provider needed) and every function's environment is fed to common.config.load_config.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from common.audit import AUDIT_LABELS
from common.config import SETTINGS, load_config
from common.events.envelope import EVENT_TYPES, SCHEDULED_BY, SCHEMA_VERSION, scheduled_message
from scripts.deploy.catalog import FUNCTIONS_DIR, REPO_ROOT, FunctionSpec, discover
from scripts.deploy.gateway_config import TEMPLATE as GATEWAY_TEMPLATE

INFRA = REPO_ROOT / "infra"
INGESTED_SOURCES = "dbt_project/models/staging/thelook/_ingested__sources.yml"
CLOUDBUILD = REPO_ROOT / "cloudbuild.yaml"
PUBLIC_PRINCIPALS = ("allUsers", "allAuthenticatedUsers")

# Resource types that take labels, and the ones that do not: every type used must be in one.
LABELABLE = {
    "google_api_gateway_api",
    "google_api_gateway_api_config",
    "google_api_gateway_gateway",
    "google_bigquery_dataset",
    "google_bigquery_table",
    "google_cloudfunctions2_function",
    "google_pubsub_subscription",
    "google_pubsub_topic",
    "google_secret_manager_secret",
    "google_storage_bucket",
}
NOT_LABELABLE = {
    "google_bigquery_dataset_iam_member",
    "google_cloud_run_service_iam_member",
    "google_cloud_scheduler_job",
    "google_logging_project_bucket_config",
    "google_logging_project_sink",
    "google_project_iam_member",
    "google_project_service",
    "google_pubsub_subscription_iam_member",
    "google_pubsub_topic_iam_member",
    "google_secret_manager_secret_iam_member",
    "google_service_account",
    "google_service_account_iam_member",
    "google_storage_bucket_iam_member",
    "google_storage_bucket_object",
    "google_storage_notification",
}

# Settings of common/config.py whose default does not hold in production, and the value
# Terraform must give each. Any other setting without a default fails the tests until it is
# listed here; settings with a default (model thresholds, limits, log level...) may stay unset.
PRODUCTION_SETTINGS = {
    "EXECKPI_WAREHOUSE": '"bigquery"',
    "EXECKPI_BQ_PROJECT": "var.project_id",
    "EXECKPI_BQ_DATASET": "local.datasets.marts",
    "EXECKPI_BQ_LOCATION": "var.bq_location",
    "EXECKPI_ARTIFACTS": '"gcs"',
    "EXECKPI_BUCKET": "local.artifacts_bucket",
    "EXECKPI_EVENTS": '"pubsub"',
    "EXECKPI_PUBSUB_PROJECT": "var.project_id",
    "EXECKPI_TOPIC_PREFIX": "var.topic_prefix",
}
# Settings that only mean something on a laptop: never set in the cloud.
LOCAL_ONLY = {"EXECKPI_DUCKDB_PATH", "EXECKPI_ARTIFACT_DIR", "EXECKPI_LOCAL_BUS_URL"}
BACKEND_SELECTORS = set(PRODUCTION_SETTINGS)  # a manifest's env may not override these


# --- parsing ------------------------------------------------------------------------------------


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps literal strings quoted ('"x"') and wraps expressions in ${...}."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except ValueError:
            return value[1:-1]
    return value


def _clean(value: Any) -> Any:
    """Unquoted keys and literals, without python-hcl2's __comments__/__is_block__ markers."""
    if isinstance(value, dict):
        return {_unquote(k): _clean(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return _unquote(value)


def expr(value: Any) -> str:
    """The expression text of an attribute: '${local.x}' -> 'local.x'."""
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


class Terraform:
    def __init__(self, root: Path):
        self.files = sorted(root.glob("*.tf"))
        self.text = {f.name: f.read_text() for f in self.files}
        self.resources: dict[tuple[str, str], dict] = {}
        self.data: dict[tuple[str, str], dict] = {}
        self.variables: dict[str, dict] = {}
        self.locals: dict[str, Any] = {}
        self.outputs: dict[str, dict] = {}
        self.providers: dict[str, dict] = {}
        self.terraform: list[dict] = []
        for file in self.files:
            parsed = _clean(hcl2.loads(self.text[file.name]))
            for block in parsed.get("resource", []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        assert (rtype, name) not in self.resources, f"{rtype}.{name} twice"
                        self.resources[rtype, name] = body
            for block in parsed.get("data", []):
                for rtype, named in block.items():
                    self.data.update({(rtype, n): body for n, body in named.items()})
            for block in parsed.get("variable", []):
                self.variables.update(block)
            for block in parsed.get("locals", []):
                for name in block:
                    assert name not in self.locals, f"local.{name} defined twice"
                self.locals.update(block)
            for block in parsed.get("output", []):
                self.outputs.update(block)
            for block in parsed.get("provider", []):
                self.providers.update(block)
            self.terraform += parsed.get("terraform", [])

    def of_type(self, rtype: str) -> dict[str, dict]:
        return {name: body for (t, name), body in self.resources.items() if t == rtype}

    def resource(self, rtype: str, name: str) -> dict:
        assert (rtype, name) in self.resources, f"{rtype}.{name} is not declared"
        return self.resources[rtype, name]


@functools.cache
def tf() -> Terraform:
    return Terraform(INFRA)


@functools.cache
def tfvars() -> dict[str, dict]:
    return {f.stem: _clean(hcl2.loads(f.read_text())) for f in sorted(INFRA.glob("envs/*.tfvars"))}


@functools.cache
def specs() -> dict[str, FunctionSpec]:
    return {spec.name: spec for spec in discover()}


def manifest(name: str) -> dict:
    """A function's manifest as Terraform sees it: its function.yaml."""
    return yaml.safe_load((FUNCTIONS_DIR / name / "function.yaml").read_text())


def permissions(name: str) -> dict[str, Any]:
    """A function's effective permissions, with the defaults of locals.tf."""
    events = specs()[name].events
    given = manifest(name).get("permissions") or {}
    resolved = {
        "warehouse": given.get("warehouse", "none"),
        "artifacts": given.get("artifacts", "none"),
        "artifact_prefixes": list(given.get("artifact_prefixes", [])),
        "publishes": list(given.get("publishes", [])),
        "secrets": list(given.get("secrets", [] if events else ["EXECKPI_API_KEYS"])),
    }
    if events:
        resolved["artifact_prefixes"].append(f"events/{name}/")
    return resolved


# --- files parse ---------------------------------------------------------------------------------


def test_every_terraform_file_parses() -> None:
    names = {f.name for f in tf().files}
    expected = {"versions.tf", "variables.tf", "locals.tf", "main.tf", "outputs.tf"}
    concerns = {"functions.tf", "iam.tf", "pubsub.tf", "scheduler.tf", "storage.tf", "bigquery.tf"}
    concerns |= {"gateway.tf", "logging.tf"}
    assert expected | concerns <= names
    assert set(tfvars()) >= {"dev", "prod"}


def test_versions_pin_terraform_and_the_provider() -> None:
    (block,) = tf().terraform
    assert re.fullmatch(r">= ?1\.\d+\.\d+, < ?2\.0\.0", block["required_version"])
    (providers,) = block["required_providers"]
    google = providers["google"]
    assert google["source"] == "hashicorp/google"
    assert re.fullmatch(r">= ?\d+\.\d+\.\d+, < ?\d+\.0\.0", google["version"]), google["version"]
    # API Gateway's resources are beta-only: the beta provider on the same version line.
    beta = providers["google-beta"]
    assert beta == {"source": "hashicorp/google-beta", "version": google["version"]}
    assert tf().providers["google-beta"]["project"] == tf().providers["google"]["project"]
    assert "gcs" in block["backend"][0], "state must live in a GCS backend"


def test_variables_are_typed_described_and_validated() -> None:
    unvalidated_ok = {"source_dir"}  # a path on the deploying machine
    for name, body in tf().variables.items():
        assert body.get("description"), f"variable {name} has no description"
        assert body.get("type"), f"variable {name} has no type"
        if name not in unvalidated_ok:
            assert body.get("validation"), f"variable {name} has no validation block"


def test_tfvars_set_known_variables_and_every_required_one() -> None:
    declared = tf().variables
    required = {n for n, body in declared.items() if "default" not in body}
    for env, values in tfvars().items():
        assert set(values) <= set(declared), f"envs/{env}.tfvars sets unknown variables"
        assert required <= set(values), f"envs/{env}.tfvars misses {required - set(values)}"
        assert values["env"] == env


def test_references_resolve() -> None:
    """A poor man's `terraform validate`: every var., local., data. and resource reference
    names something declared (the real one needs provider schemas, not available offline)."""
    t = tf()
    strings = [
        s
        for part in (t.resources, t.data, t.locals, t.outputs, t.providers, t.variables)
        for s in _strings({str(k): v for k, v in part.items()})
    ]
    problems = set()
    for s in strings:
        for name in re.findall(r"\bvar\.([A-Za-z_][\w-]*)", s):
            if name not in t.variables:
                problems.add(f"var.{name}")
        for name in re.findall(r"\blocal\.([A-Za-z_][\w-]*)", s):
            if name not in t.locals:
                problems.add(f"local.{name}")
        for rtype, name in re.findall(r"\bdata\.(google_\w+)\.(\w+)", s):
            if (rtype, name) not in t.data:
                problems.add(f"data.{rtype}.{name}")
        for rtype, name in re.findall(r"(?<![\w.])(google_[a-z0-9_]+)\.([a-z_][\w-]*)", s):
            if (rtype, name) not in t.resources:
                problems.add(f"{rtype}.{name}")
    assert not problems, f"undeclared references: {sorted(problems)}"


def test_attributes_used_on_a_function_entry_exist() -> None:
    """each.value.<attr> in resources looping over functions must be keys of the entry."""
    fields = set(re.findall(r"[{,]\s*(\w+)\s*=", expr(tf().locals["functions"])))
    loops = {
        "local.functions",
        "local.event_functions",
        "local.subscribers",
        "local.http_functions",
        "local.public_http",
        "local.gateway_backends",
    }
    loops |= {f"local.{n}" for n in ("warehouse_users", "artifact_readers", "artifact_writers")}
    for (rtype, name), body in tf().resources.items():
        if expr(body.get("for_each", "")) in loops:
            used = set(re.findall(r"each\.value\.(\w+)", json.dumps(body)))
            assert used <= fields, f"{rtype}.{name} uses unknown fields {used - fields}"


# --- functions --------------------------------------------------------------------------------


def test_every_function_folder_is_one_terraform_entry() -> None:
    locals_ = tf().locals
    assert expr(locals_["functions_dir"]) == "${path.module}/../functions"
    match = re.fullmatch(
        r'\{for f in fileset\(local\.functions_dir, "([^"]+)"\) : dirname\(f\) => '
        r'yamldecode\(file\("\$\{local\.functions_dir\}/\$\{f\}"\)\)\}',
        expr(locals_["manifests"]),
    )
    assert match, "local.manifests must be read from every functions/*/function.yaml"
    derived = sorted(p.parent.name for p in FUNCTIONS_DIR.glob(match.group(1)))
    folders = sorted(
        p.name for p in FUNCTIONS_DIR.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
    )
    assert derived == folders == sorted(specs()), "a folder is missing its function.yaml"
    assert expr(locals_["functions"]).startswith("{for name, m in local.manifests : name => {")
    # One resource type, one resource, one instance per entry; nothing declared by hand.
    assert not tf().of_type("google_cloudfunctions_function"), "1st gen functions are not used"
    (fn,) = tf().of_type("google_cloudfunctions2_function").values()
    assert expr(fn["for_each"]) == "local.functions"


def test_entry_point_trigger_and_sizes_come_from_the_manifest() -> None:
    entry = expr(tf().locals["functions"])
    for field, source in {
        "entry_point": "m.entry_point",
        "memory": "m.memory",
        "timeout_seconds": "m.timeout_seconds",
        "max_instances": "m.max_instances",
        "concurrency": "try(m.concurrency, 1)",
        "events": "local.trigger_events[name]",
        "is_http": "!local.pushed[name]",
    }.items():
        assert f"{field} = {source}," in entry, f"{field} must be {source}"
    assert expr(tf().locals["trigger_events"]) == (
        "{for name, m in local.manifests : name => "
        "tolist(try(m.trigger.events, [m.trigger.event], []))}"
    )
    (fn,) = tf().of_type("google_cloudfunctions2_function").values()
    (build,) = fn["build_config"]
    (service,) = fn["service_config"]
    assert expr(build["entry_point"]) == "each.value.entry_point"
    assert expr(service["available_memory"]) == "each.value.memory"
    assert expr(service["timeout_seconds"]) == "each.value.timeout_seconds"
    assert expr(service["max_instance_count"]) == "each.value.max_instances"
    assert expr(service["max_instance_request_concurrency"]) == "each.value.concurrency"
    assert (
        expr(service["service_account_email"]) == "google_service_account.runtime[each.key].email"
    )
    # Event functions: fed by a push subscription on each trigger event's topic.
    assert (
        expr(tf().locals["event_functions"])
        == "{for name, f in local.functions : name => f if !f.is_http}"
    )
    subscriptions = expr(tf().locals["subscriptions"])
    # ...and HTTP functions with push_events (dbt_build: data-ingested), on POST /.
    assert (
        expr(tf().locals["subscribers"]) == "{for name, f in local.functions : name => f"
        " if length(concat(f.events, f.push_events)) > 0}"
    )
    assert "for name, f in local.subscribers" in subscriptions
    assert "for e in concat(f.events, f.push_events)" in subscriptions
    assert '"${name}/${e}" => {function = name, event = e,' in subscriptions
    push = tf().resource("google_pubsub_subscription", "push")
    assert expr(push["for_each"]) == "local.subscriptions"
    assert expr(push["topic"]) == "google_pubsub_topic.events[each.value.event].id"
    (config,) = push["push_config"]
    uri = "google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri"
    assert uri in config["push_endpoint"]
    (oidc,) = config["oidc_token"]
    trigger_account = "google_service_account.trigger[each.value.function].email"
    assert expr(oidc["service_account_email"]) == trigger_account


def test_function_sources_are_content_addressed() -> None:
    obj = tf().resource("google_storage_bucket_object", "source")
    assert expr(obj["for_each"]) == "local.functions"
    assert "filemd5(each.value.source_zip)" in obj["name"]
    assert "/build/functions" in expr(tf().locals["source_dir"])
    assert '"${local.source_dir}/${name}.zip"' in expr(tf().locals["functions"])
    (fn,) = tf().of_type("google_cloudfunctions2_function").values()
    (source,) = fn["build_config"][0]["source"]
    storage = source["storage_source"][0]
    assert expr(storage["object"]) == "google_storage_bucket_object.source[each.key].name"


def test_event_functions_have_retries_and_a_dead_letter_topic() -> None:
    push = tf().resource("google_pubsub_subscription", "push")
    assert push["retry_policy"][0]["minimum_backoff"]
    policy = push["dead_letter_policy"][0]
    dead_letter = "google_pubsub_topic.dead_letter[each.value.function].id"
    assert expr(policy["dead_letter_topic"]) == dead_letter
    assert expr(policy["max_delivery_attempts"]) == "var.max_delivery_attempts"
    dlq = tf().resource("google_pubsub_topic", "dead_letter")
    hold = tf().resource("google_pubsub_subscription", "dead_letter")
    assert expr(dlq["for_each"]) == expr(hold["for_each"]) == "local.subscribers"
    # The Pub/Sub service agent dead-letters: publisher on the DLQ, subscriber on the source.
    agent_pub = tf().resource("google_pubsub_topic_iam_member", "dead_letter_agent")
    agent_sub = tf().resource("google_pubsub_subscription_iam_member", "dead_letter_agent")
    assert expr(agent_pub["member"]) == expr(agent_sub["member"]) == "local.pubsub_agent"
    invoker = tf().resource("google_cloud_run_service_iam_member", "trigger_invoker")
    assert expr(invoker["member"]) == "google_service_account.trigger[each.key].member"
    assert expr(invoker["service"]) == "google_cloudfunctions2_function.fn[each.key].name"


# --- topics -------------------------------------------------------------------------------------


def _event_types_in_terraform() -> set[str]:
    match = re.fullmatch(r"toset\(\[(.*)\]\)", expr(tf().locals["event_types"]))
    assert match, "local.event_types must be a toset([...]) of literals"
    return set(re.findall(r'"([^"]+)"', match.group(1)))


def _published_in(path: Path) -> set[str]:
    """Event types constructed with a literal: Event("x", ...) or Event(event_type="x")."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name != "Event":
            continue
        args = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "event_type")]
        found |= {a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return found


def test_topics_are_exactly_the_event_types() -> None:
    assert _event_types_in_terraform() == set(EVENT_TYPES)
    topics = tf().resource("google_pubsub_topic", "events")
    assert expr(topics["for_each"]) == "local.event_types"
    assert topics["name"] == "${var.topic_prefix}${each.value}"  # the code's topic name


def test_every_topic_the_code_uses_exists() -> None:
    in_terraform = _event_types_in_terraform()
    subscribed = {event for spec in specs().values() for event in spec.events}
    python = [*FUNCTIONS_DIR.glob("*/*.py"), *(REPO_ROOT / "common").rglob("*.py")]
    published = set().union(*(_published_in(p) for p in python))
    assert published, "no Event(...) found: the scan is broken"
    assert subscribed | published <= in_terraform, (subscribed | published) - in_terraform
    for name in specs():
        assert set(permissions(name)["publishes"]) <= in_terraform, name


# --- least privilege --------------------------------------------------------------------------


def _backend_use(spec: FunctionSpec) -> tuple[set[str], set[str]]:
    """(Backends attributes used, event types constructed) in a function's main.py."""
    tree = ast.parse(spec.source.read_text())
    holders = {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", None) == "Backends"
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in holders
    }
    return used, _published_in(spec.source)


def test_what_a_function_uses_is_granted() -> None:
    for name, spec in specs().items():
        used, events = _backend_use(spec)
        grant = permissions(name)
        if "warehouse" in used:
            assert grant["warehouse"] in ("read", "write"), f"{name}: uses the warehouse"
        if "artifacts" in used:
            assert grant["artifacts"] != "none" or grant["artifact_prefixes"], f"{name}: artifacts"
        if "publisher" in used:
            assert grant["publishes"], f"{name}: publishes but may publish nothing"
        missing = events - set(grant["publishes"])
        assert not missing, f"{name}: publishes {missing} without permissions.publishes"


# Every key a function.yaml may carry (infra/README.md documents them). Terraform reads all
# but package_include, which only scripts/deploy/package.py uses (path_prefix: both Terraform
# and scripts/deploy/gateway_config.py).
MANIFEST_KEYS = {
    "public_gateway",
    "entry_point",
    "description",
    "trigger",
    "memory",
    "timeout_seconds",
    "max_instances",
    "concurrency",
    "permissions",
    "ingress",
    "smoke_path",
    "env",
    "runtime",
    "package_include",
    "path_prefix",
    "push_events",
}
PERMISSION_KEYS = {"warehouse", "artifacts", "artifact_prefixes", "publishes", "secrets"}


def test_manifests_use_known_keys_only() -> None:
    """A misspelt key would be silently ignored by Terraform (it reads the keys it knows)."""
    paths = sorted(FUNCTIONS_DIR.glob("*/function.yaml"))
    assert {p.parent.name for p in paths} == set(specs())
    for path in paths:
        name, own = path.parent.name, yaml.safe_load(path.read_text())
        assert isinstance(own, dict), f"{name}: function.yaml must be a mapping"
        assert set(own) <= MANIFEST_KEYS, f"{name}: unknown keys {set(own) - MANIFEST_KEYS}"
        given = own.get("permissions") or {}
        assert set(given) <= PERMISSION_KEYS, (
            f"{name}: unknown permissions {set(given) - PERMISSION_KEYS}"
        )
        assert set(given.get("publishes", [])) <= EVENT_TYPES, name
        # A source folder, or build output inside one (web/dist: built by ./dev, not committed).
        assert {p.split("/")[0] for p in own.get("package_include", [])} <= {
            p.name for p in REPO_ROOT.iterdir() if p.is_dir()
        }, f"{name}: package_include names a folder that does not exist"
    assert "package_include" not in expr(tf().locals["functions"])


def test_permissions_are_well_formed() -> None:
    settings = {s.env_var for s in SETTINGS}
    for name in specs():
        p = permissions(name)
        assert p["warehouse"] in ("none", "read", "write"), name
        assert p["artifacts"] in ("none", "read", "write"), name
        assert p["artifacts"] != "write" or p["artifact_prefixes"], f"{name}: write needs prefixes"
        assert all(re.fullmatch(r"[a-z0-9_./-]+/", x) for x in p["artifact_prefixes"]), name
        assert set(p["secrets"]) <= settings, f"{name}: secrets must be EXECKPI_* settings"
        extra = set(manifest(name).get("permissions") or {}) - {
            "warehouse",
            "artifacts",
            "artifact_prefixes",
            "publishes",
            "secrets",
        }
        assert not extra, f"{name}: unknown permissions {extra}"
        assert manifest(name).get("ingress", "all") in ("all", "internal"), name


def test_roles_per_access_level() -> None:
    roles = tf().locals["warehouse_roles"]
    assert roles["none"] == {}
    assert roles["read"] == {"marts": "roles/bigquery.dataViewer"}  # marts only
    assert roles["write"]["staging"] == roles["write"]["marts"] == "roles/bigquery.dataEditor"
    job = tf().resource("google_project_iam_member", "bigquery_job_user")
    assert job["role"] == "roles/bigquery.jobUser"
    # Project-level grants: job user for functions, and what the build account needs to build;
    # data, artifacts, topics and secrets are granted on the resource itself.
    project_roles = {
        json.dumps(b["role"]) for b in tf().of_type("google_project_iam_member").values()
    }
    assert project_roles == {'"roles/bigquery.jobUser"', '"${each.value}"'}
    build_roles = set(re.findall(r'"(roles/[^"]+)"', expr(tf().locals["build_roles"])))
    assert build_roles == {"roles/logging.logWriter", "roles/artifactregistry.writer"}
    writer = tf().resource("google_storage_bucket_iam_member", "artifact_writer")
    assert writer["role"] == "roles/storage.objectUser"
    (condition,) = writer["condition"]
    assert "resource.name.startsWith" in condition["expression"]
    assert "/objects/${p}" in condition["expression"]
    publisher = tf().resource("google_pubsub_topic_iam_member", "publisher")
    assert publisher["role"] == "roles/pubsub.publisher"
    assert expr(publisher["topic"]) == "google_pubsub_topic.events[each.value.event].name"
    for rtype in ("google_project_iam_member", "google_storage_bucket_iam_member"):
        for body in tf().of_type(rtype).values():
            assert not re.search(r"roles/(owner|editor|viewer)\b", json.dumps(body)), body


def test_one_service_account_per_function() -> None:
    runtime = tf().resource("google_service_account", "runtime")
    assert expr(runtime["for_each"]) == "local.functions"
    assert "each.value.slug" in runtime["account_id"]
    assert runtime["account_id"] == "fn-${each.value.slug}-${var.env}"
    for name in specs():
        # The longest env variables.tf allows is 8 characters.
        account = f"fn-{name.replace('_', '-')}-{'e' * 8}"
        assert len(account) <= 30, f"{name}: service account id {account} would be too long"
        assert re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", account), account


def test_no_public_principals_anywhere() -> None:
    for (rtype, name), body in tf().resources.items():
        for key in ("member", "members"):
            text = json.dumps(body.get(key, ""))
            assert not any(p in text for p in PUBLIC_PRINCIPALS), f"{rtype}.{name} is public"
    for env, values in tfvars().items():
        assert not any(p in json.dumps(values) for p in PUBLIC_PRINCIPALS), env
    # Outside comments, the only mention is the validation that refuses them.
    for file, text in tf().text.items():
        code = "\n".join(line.split("#")[0] for line in text.splitlines())
        if any(p in code for p in PUBLIC_PRINCIPALS):
            assert file == "variables.tf" and "!contains([" in text, file


def test_scheduler_jobs_target_existing_functions() -> None:
    schedules = expr(tf().locals["schedules"])
    assert "if (s.event == null ? contains(keys(local.http_functions), s.function)" in schedules
    assert "contains(local.subscribed_events, s.event))" in schedules
    assert "coalesce(s.time_zone, var.reporting_time_zone)" in schedules
    assert expr(tf().locals["http_schedules"]).endswith("if s.event == null}")
    assert expr(tf().locals["event_schedules"]).endswith("if s.event != null}")
    for rtype, name in [
        ("google_cloud_scheduler_job", "this"),
        ("google_service_account", "scheduler"),
        ("google_cloud_run_service_iam_member", "scheduler_invoker"),
    ]:
        assert expr(tf().resource(rtype, name)["for_each"]) == "local.http_schedules"
    job = tf().resource("google_cloud_scheduler_job", "this")
    (target,) = job["http_target"]
    (oidc,) = target["oidc_token"]
    assert expr(oidc["service_account_email"]) == "google_service_account.scheduler[each.key].email"
    invoker = tf().resource("google_cloud_run_service_iam_member", "scheduler_invoker")
    assert (
        expr(invoker["service"]) == "google_cloudfunctions2_function.fn[each.value.function].name"
    )


def test_event_jobs_publish_what_the_consumer_reads() -> None:
    """An event job publishes its body with the attributes of scheduled_message, which
    event_from_cloud_event turns into an envelope; no identity of its own, no HTTP target."""
    job = tf().resource("google_cloud_scheduler_job", "event")
    assert expr(job["for_each"]) == "local.event_schedules"
    assert "http_target" not in job and "attempt_deadline" not in job
    (target,) = job["pubsub_target"]
    assert expr(target["topic_name"]) == "google_pubsub_topic.events[each.value.event].id"
    assert expr(target["data"]) == "base64encode(each.value.body)"
    _, attributes = scheduled_message("weekly-report-requested", "execkpi-report-week-en", {})
    assert set(target["attributes"]) == set(attributes)
    assert expr(target["attributes"]["event_type"]) == "each.value.event"
    assert target["attributes"]["schema_version"] == SCHEMA_VERSION
    assert target["attributes"][SCHEDULED_BY] == "execkpi-${each.key}" == job["name"]
    assert "google_pubsub_subscription.push" in json.dumps(job["depends_on"])
    outputs = expr(tf().outputs["scheduler_jobs"]["value"])
    assert "google_cloud_scheduler_job.this" in outputs
    assert "google_cloud_scheduler_job.event" in outputs


@pytest.mark.parametrize("env", ["default", "dev", "prod"])
def test_weekly_reports_are_events_on_the_shops_monday_in_both_languages(env: str) -> None:
    if env == "default":
        schedules = tf().variables["schedules"]["default"]
    else:
        schedules = tfvars()[env]["schedules"]
    weekly = {k: s for k, s in schedules.items() if s.get("event") == "weekly-report-requested"}
    assert {json.loads(s["body"])["locale"] for s in weekly.values()} == {"en-US", "de-DE"}
    for key, job in weekly.items():
        assert job["schedule"] == "0 7 * * 1" and "time_zone" not in job, key  # reporting zone
        assert "function" not in job and "path" not in job, key
    # The event path replaces the HTTP one: nothing calls POST /reports/weekly on schedule.
    assert not [k for k, s in schedules.items() if s.get("function") == "reports"]
    subscribed = {e for spec in specs().values() for e in spec.events}
    assert "weekly-report-requested" in subscribed


def test_the_weekly_report_function_reads_the_warehouse_and_writes_reports_only() -> None:
    spec = specs()["weekly_report"]
    assert spec.events == ("weekly-report-requested",) and spec.path_prefix is None
    grant = permissions("weekly_report")
    assert (grant["warehouse"], grant["artifacts"]) == ("read", "write")
    assert grant["artifact_prefixes"] == ["reports/", "events/weekly_report/"]
    assert grant["publishes"] == grant["secrets"] == []
    # One delivery at a time, so "is this week's report made yet?" cannot interleave.
    assert (spec.max_instances, manifest("weekly_report").get("concurrency", 1)) == (1, 1)


def test_no_bucket_is_public_and_the_dashboard_has_none() -> None:
    """The dashboard is served by the portal behind the front door (web/dist in its package),
    so no bucket serves anything to the public: every one enforces public access prevention
    and takes IAM only (no ACLs), and no bucket-level binding exists besides the functions'."""
    buckets = tf().of_type("google_storage_bucket")
    assert set(buckets) == {"artifacts", "sources", "landing"}  # landing: landing.tf
    for name, bucket in buckets.items():
        assert bucket["public_access_prevention"] == "enforced", name
        assert bucket["uniform_bucket_level_access"] is True, name
        assert "website" not in bucket and "cors" not in bucket, name
    assert not tf().of_type("google_storage_bucket_acl")
    assert not tf().of_type("google_storage_default_object_acl")
    assert "web/dist" in manifest("portal")["package_include"]
    assert manifest("portal")["path_prefix"] == ""  # / and /app/... of the front door
    dashboard = tf().outputs["dashboard_url"]["value"]
    assert dashboard == "https://${google_api_gateway_gateway.this.default_hostname}/"


# --- front door -----------------------------------------------------------------------------------

GATEWAY_TYPES = (
    "google_api_gateway_api",
    "google_api_gateway_api_config",
    "google_api_gateway_gateway",
)


def test_front_door_is_one_api_gateway() -> None:
    for rtype in GATEWAY_TYPES:
        (body,) = tf().of_type(rtype).values()
        assert body["provider"] == "google-beta", f"{rtype} exists in the beta provider only"
        assert expr(body["project"]) == "var.project_id"
    gateway = tf().resource("google_api_gateway_gateway", "this")
    assert expr(gateway["api_config"]) == "google_api_gateway_api_config.this.id"
    assert expr(gateway["region"]) == "var.region"
    assert gateway["depends_on"] == ["${google_cloud_run_service_iam_member.gateway_invoker}"]
    url = tf().outputs["gateway_url"]["value"]
    assert url == "https://${google_api_gateway_gateway.this.default_hostname}"
    services = expr(tf().locals["services"])
    for api in ("apigateway", "servicemanagement", "servicecontrol"):
        assert f'"{api}.googleapis.com"' in services, api


def test_gateway_config_is_the_generated_template() -> None:
    config = tf().resource("google_api_gateway_api_config", "this")
    assert expr(config["api"]) == "google_api_gateway_api.this.api_id"
    # A config is immutable: each change makes a new one (fresh id) before the old one goes.
    assert "api_config_id" not in config and config["api_config_id_prefix"]
    assert config["lifecycle"] == [{"create_before_destroy": True}]
    (documents,) = config["openapi_documents"]
    (document,) = documents["document"]
    template = GATEWAY_TEMPLATE.relative_to(INFRA).as_posix()
    assert expr(document["contents"]) == (
        f'base64encode(templatefile("${{path.module}}/{template}", '
        '{for name in keys(local.gateway_backends) : "backend_${name}" => '
        "google_cloudfunctions2_function.fn[name].service_config[0].uri}))"
    )
    (gateway_config,) = config["gateway_config"]
    (backend,) = gateway_config["backend_config"]
    assert expr(backend["google_service_account"]) == "google_service_account.gateway.email"
    # templatefile() fails on a placeholder without a value: every function the template
    # routes to is one Terraform passes a URL for.
    routed = set(re.findall(r"(?<!\$)\$\{backend_(\w+)\}", GATEWAY_TEMPLATE.read_text()))
    assert routed <= {n for n, s in specs().items() if s.is_http and s.path_prefix is not None}


def test_gateway_invokes_its_backends_and_nothing_else() -> None:
    assert expr(tf().locals["gateway_backends"]) == (
        "{for name, f in local.http_functions : name => f if f.path_prefix != null &&"
        " f.public_gateway}"
    )
    invoker = tf().resource("google_cloud_run_service_iam_member", "gateway_invoker")
    assert expr(invoker["for_each"]) == "local.gateway_backends"
    assert invoker["role"] == "roles/run.invoker"
    assert expr(invoker["member"]) == "google_service_account.gateway.member"
    assert expr(invoker["service"]) == "google_cloudfunctions2_function.fn[each.key].name"
    assert tf().resource("google_service_account", "gateway")["account_id"] == "gateway-${var.env}"
    # Its one grant: no project role, no other binding names the gateway's account.
    granting = [
        key
        for key, body in tf().resources.items()
        if "google_service_account.gateway."
        in json.dumps([body.get("member"), body.get("members")])
    ]
    assert granting == [("google_cloud_run_service_iam_member", "gateway_invoker")]
    # API Gateway calls from outside the project's network: a backend must allow it.
    (fn,) = tf().of_type("google_cloudfunctions2_function").values()
    conditions = [expr(p["condition"]) for p in fn["lifecycle"][0]["precondition"]]
    assert 'each.value.path_prefix == null || each.value.ingress == "all"' in conditions
    assert "path_prefix = try(m.path_prefix, null)" in expr(tf().locals["functions"])


# --- settings -------------------------------------------------------------------------------------


def test_settings_without_a_default_are_set() -> None:
    names = {s.env_var for s in SETTINGS}
    assert set(PRODUCTION_SETTINGS) | LOCAL_ONLY <= names, "a listed setting no longer exists"
    required = {s.env_var for s in SETTINGS if s.default is None}
    assert required <= set(PRODUCTION_SETTINGS), f"set these in runtime_env: {required}"


def test_runtime_env_sets_what_production_needs() -> None:
    env_expr = expr(tf().locals["runtime_env"])
    pairs = dict(re.findall(r"(EXECKPI_[A-Z_]+) = ([^,}]+)", env_expr))
    for var, value in PRODUCTION_SETTINGS.items():
        assert pairs.get(var, "").strip() == value, f"{var} must be set to {value}"
    known = {s.env_var for s in SETTINGS}
    assert set(pairs) <= known, f"unknown settings make load_config fail: {set(pairs) - known}"
    assert not set(pairs) & LOCAL_ONLY
    # The values name the resources they describe.
    assert (
        tf().resource("google_storage_bucket", "artifacts")["name"] == "${local.artifacts_bucket}"
    )
    assert expr(tf().resource("google_bigquery_dataset", "this")["for_each"]) == "local.datasets"
    function_env = expr(tf().locals["function_env"])
    assert "merge(local.runtime_env, {for k, v in try(m.env, {})" in function_env
    (fn,) = tf().of_type("google_cloudfunctions2_function").values()
    (service,) = fn["service_config"]
    assert expr(service["environment_variables"]) == "local.function_env[each.key]"
    assert "secret_environment_variables" in json.dumps(service["dynamic"])


def test_manifest_env_keeps_the_production_back_ends() -> None:
    known = {s.env_var for s in SETTINGS}
    for name in specs():
        env = manifest(name).get("env") or {}
        for key in env:
            assert key not in BACKEND_SELECTORS, f"{name}: env may not override {key}"
            assert not key.startswith("EXECKPI_") or key in known, f"{name}: unknown {key}"


def test_datasets_follow_the_dbt_project() -> None:
    profile = yaml.safe_load((REPO_ROOT / "dbt_project/profiles.yml").read_text())
    project = yaml.safe_load((REPO_ROOT / "dbt_project/dbt_project.yml").read_text())
    dataset = profile["execkpi"]["outputs"]["prod"]["dataset"]
    marts = f"{dataset}_{project['models']['execkpi']['marts']['+schema']}"
    assert marts == "execkpi_marts" == next(s.default for s in SETTINGS if s.name == "bq_dataset")
    assert project["seeds"]["execkpi"]["+schema"] == "marts"
    datasets = tf().locals["datasets"]
    assert set(datasets) == {"raw", "staging", "marts", "ingest"}
    assert expr(tf().locals["dbt_dataset"]) == "local.dbt_profile.execkpi.outputs.prod.dataset"
    assert '["+schema"]' in datasets["marts"] and "marts" in datasets["marts"]
    assert "var.bq_location" in tf().resource("google_bigquery_dataset", "this")["location"]
    assert tf().variables["bq_location"]["default"] == "EU"


def test_audit_entries_go_to_their_own_log_bucket_and_default_retention_is_explicit() -> None:
    buckets = tf().of_type("google_logging_project_bucket_config")
    assert set(buckets) == {"audit", "default"}
    audit, default = buckets["audit"], buckets["default"]
    assert expr(audit["retention_days"]) == "var.audit_log_retention_days"
    assert tf().variables["audit_log_retention_days"]["default"] == 400
    assert (default["bucket_id"], default["location"]) == ("_Default", "global")
    assert expr(default["retention_days"]) == "var.default_log_retention_days"
    assert tf().variables["default_log_retention_days"]["default"] == 30
    sink = tf().resource("google_logging_project_sink", "audit")
    assert "google_logging_project_bucket_config.audit.id" in sink["destination"]
    assert sink["destination"].startswith("logging.googleapis.com/")
    # The sink's filter selects the label the code puts on every audit entry, and only that.
    ((label, value),) = AUDIT_LABELS.items()
    assert sink["filter"] == f'labels.{label}="{value}"'


# --- labels and checkov ---------------------------------------------------------------------------


def test_labels_on_every_labelable_resource() -> None:
    labels = expr(tf().locals["labels"])
    for key in ("app =", "env = var.env", "managed-by ="):
        assert key in labels
    for provider in ("google", "google-beta"):
        assert expr(tf().providers[provider]["default_labels"]) == "local.labels"
    for (rtype, name), body in tf().resources.items():
        assert rtype in LABELABLE | NOT_LABELABLE, f"classify {rtype} as labelable or not"
        if rtype in LABELABLE:
            assert "local.labels" in str(body.get("labels", "")), f"{rtype}.{name} has no labels"


def test_checkov_skips_carry_a_reason() -> None:
    for file, text in tf().text.items():
        for line in text.splitlines():
            if "checkov:skip" in line:
                assert re.fullmatch(r"\s*#checkov:skip=CKV2?_[A-Z]+_\d+:\S.{15,}", line), (
                    f"{file}: a skip needs a one-line reason: {line.strip()}"
                )


# --- cloudbuild.yaml -----------------------------------------------------------------------------


@functools.cache
def cloudbuild() -> dict:
    return yaml.safe_load(CLOUDBUILD.read_text())


def _waits(steps: dict[str, dict], step_id: str) -> set[str]:
    """Every step ``step_id`` waits for, directly or not (no waitFor: all previous steps)."""
    order = list(steps)
    direct = steps[step_id].get("waitFor")
    if direct is None:
        direct = order[: order.index(step_id)]
    found = set()
    for dep in direct:
        if dep != "-":
            found |= {dep} | _waits(steps, dep)
    return found


def test_cloudbuild_steps_have_ids_and_pinned_images() -> None:
    steps = cloudbuild()["steps"]
    ids = [s.get("id") for s in steps]
    assert all(ids) and len(set(ids)) == len(ids), "every step needs a unique id"
    for step in steps:
        image = step["name"]
        assert re.search(r"(:[\w.-]*\d[\w.-]*|@sha256:[0-9a-f]{64})$", image), image
        assert not image.endswith(":latest"), image
        for dep in step.get("waitFor", []):
            assert dep == "-" or dep in ids[: ids.index(step["id"])], f"{step['id']}: {dep}"


def test_cloudbuild_pipeline_order() -> None:
    steps = {s["id"]: s for s in cloudbuild()["steps"]}
    for required in ("lint", "test", "dbt-build", "package", "tf-init", "tf-plan", "tf-apply"):
        assert required in steps
    assert {"package", "tf-init"} <= _waits(steps, "tf-plan")
    assert {"lint", "test", "dbt-build", "package", "tf-plan"} <= _waits(steps, "tf-apply")
    assert "tf-apply" in _waits(steps, "smoke-test")
    # Parallel where it can be: lint, tests, dbt and packaging do not wait for one another.
    for a in ("lint", "test", "dbt-build", "package"):
        assert not {"lint", "test", "dbt-build", "package"} & _waits(steps, a), a


def test_cloudbuild_commands() -> None:
    build = cloudbuild()
    steps = {s["id"]: s for s in build["steps"]}
    text = {k: json.dumps(s.get("args", [])) for k, s in steps.items()}
    assert {"_ENV", "_REGION", "_TF_STATE_BUCKET"} <= set(build["substitutions"])
    assert "scripts.data.thelook --users 10000" in text["dbt-build"]
    assert "scripts.data.thelook.load --generated" in text["dbt-build"]
    assert "scripts.data.dbt_runner build" in text["dbt-build"]
    assert "scripts.deploy.package" in text["package"]
    assert "-backend-config=bucket=${_TF_STATE_BUCKET}" in text["tf-init"]
    assert "-var-file=envs/${_ENV}.tfvars" in text["tf-plan"]
    assert "-var=region=${_REGION}" in text["tf-plan"]
    assert "output -json > build/terraform-outputs.json" in text["tf-output"]
    assert (
        "scripts.deploy.smoke_test --terraform-outputs build/terraform-outputs.json"
        in text["smoke-test"]
    )
    assert (INFRA / "envs" / f"{build['substitutions']['_ENV']}.tfvars").is_file()
    # The metadata server must stay visible to the smoke test's identity tokens.
    assert "NO_GCE_CHECK=false" in steps["smoke-test"].get("env", [])
    # The Terraform image satisfies required_version.
    tf_image = {s["name"] for s in steps.values() if "terraform" in s["name"]}
    assert len(tf_image) == 1
    version = tuple(int(x) for x in tf_image.pop().split(":")[1].split("."))
    assert (1, 5, 0) <= version < (2, 0, 0)


def test_cloudbuild_builds_the_dashboard_before_testing_and_packaging() -> None:
    steps = {s["id"]: s for s in cloudbuild()["steps"]}
    web = steps["web-build"]
    image, tag = web["name"].split(":")
    # Vite 8 needs Node.js 20.19+ (web/package.json); a full version, never a moving tag.
    assert image == "node" and re.fullmatch(r"20\.\d+\.\d+(-[a-z-]+)?", tag), tag
    assert tuple(int(x) for x in tag.split("-")[0].split(".")[:2]) >= (20, 19)
    assert web["dir"] == "web" and web["waitFor"] == ["-"]
    command = json.dumps(web["args"])
    assert "npm ci" in command and "npm run build" in command  # the lock file, exactly
    assert command.index("npm ci") < command.index("npm run build")
    for step in ("test", "package", "tf-apply"):
        assert "web-build" in _waits(steps, step), step


# --- evaluated with terraform console (where terraform is installed) ----------------------------

TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(
    TERRAFORM is None,
    reason="terraform is not on PATH: the locals are only checked structurally above",
)


def _console(root: Path, functions: Path):
    """Evaluate expressions over locals.tf + variables.tf in a provider-free copy of infra/
    whose ../functions is ``functions``."""
    (root / "infra").mkdir(parents=True)
    for name in ("locals.tf", "variables.tf"):
        shutil.copy(INFRA / name, root / "infra" / name)
    (root / "functions").symlink_to(functions, target_is_directory=True)
    (root / "dbt_project").symlink_to(REPO_ROOT / "dbt_project", target_is_directory=True)
    rc = root / "terraformrc"
    rc.write_text("")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "CHECKPOINT_DISABLE": "1"}

    def evaluate(expression: str, *args: str) -> tuple[int, Any, str]:
        result = subprocess.run(
            [TERRAFORM, "console", "-no-color", *args],
            cwd=root / "infra",
            input=f"jsonencode({expression})\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        # A failed validation is an error on stderr, yet console may still exit 0.
        failed = result.returncode != 0 or "Error:" in result.stderr
        value = None if failed else json.loads(json.loads(result.stdout.strip().splitlines()[-1]))
        return (result.returncode or int(failed)), value, result.stderr

    return evaluate


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory):
    return _console(tmp_path_factory.mktemp("tf"), FUNCTIONS_DIR)


@needs_terraform
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_evaluated_functions_env_and_topics(console, env: str) -> None:
    var_file = f"-var-file={INFRA / 'envs' / f'{env}.tfvars'}"
    rc, value, err = console(
        "{functions = local.functions, env = local.function_env, secrets = local.function_secrets,"
        " events = local.event_types, datasets = local.datasets, bucket = local.artifacts_bucket,"
        " schedules = local.schedules, smoke = local.smoke_paths}",
        var_file,
    )
    assert rc == 0, err
    values = tfvars()[env]
    assert set(value["functions"]) == set(specs())
    for name, spec in specs().items():
        f = value["functions"][name]
        assert f["entry_point"] == spec.entry_point
        assert f["events"] == list(spec.events)
        assert f["is_http"] == spec.is_http
        assert f["path_prefix"] == spec.path_prefix
        assert (f["memory"], f["timeout_seconds"], f["max_instances"]) == (
            spec.memory,
            spec.timeout_seconds,
            spec.max_instances,
        )
        grant = permissions(name)
        assert f["warehouse"] == grant["warehouse"] and f["artifacts"] == grant["artifacts"]
        assert sorted(f["artifact_prefixes"]) == sorted(set(grant["artifact_prefixes"]))
        assert sorted(f["publishes"]) == sorted(grant["publishes"])
        # The function starts: load_config accepts its environment (a mounted secret counts).
        environ = dict(value["env"][name])
        environ.update({setting: "k" * 24 for setting in value["secrets"][name]})
        config = load_config(environ)
        assert (config.warehouse, config.artifacts, config.events) == ("bigquery", "gcs", "pubsub")
        assert config.bq_project == config.pubsub_project == values["project_id"]
        assert config.bq_dataset == value["datasets"]["marts"] == "execkpi_marts"
        assert config.bucket == value["bucket"]
        assert config.topic_prefix == values["topic_prefix"]
        assert not set(value["secrets"][name]) & set(value["env"][name])
    assert set(value["events"]) == set(EVENT_TYPES)
    subscribed = {e for spec in specs().values() for e in spec.events}
    assert set(value["schedules"]) == {
        k
        for k, s in values["schedules"].items()
        if s.get("function") in specs() or s.get("event") in subscribed
    }
    assert set(value["smoke"]) <= {n for n, s in specs().items() if s.is_http}


@needs_terraform
def test_evaluated_schedule_appears_with_its_function(console) -> None:
    http = next(n for n, s in specs().items() if s.is_http)
    schedules = f'{{nightly = {{function = "{http}", schedule = "0 5 * * *"}}}}'
    rc, value, err = console(
        "local.schedules",
        "-var=project_id=execkpi-test",
        "-var=env=test",
        f"-var=schedules={schedules}",
    )
    assert rc == 0, err
    assert value["nightly"]["function"] == http


@needs_terraform
@pytest.mark.parametrize(
    "bad",
    ['-var=invokers=["allUsers"]', '-var=invokers=["allAuthenticatedUsers"]', "-var=env=Prod"],
)
def test_evaluated_validation_refuses(console, bad: str) -> None:
    rc, _, err = console("local.labels", "-var=project_id=execkpi-test", "-var=env=test", bad)
    assert rc != 0 and "Invalid value for variable" in err


@needs_terraform
def test_evaluated_gateway_backends(console) -> None:
    """One invoker binding per function with a path_prefix: the HTTP functions that own a path
    behind the front door, each with ingress all."""
    rc, value, err = console(
        "local.gateway_backends", "-var=project_id=execkpi-test", "-var=env=test"
    )
    assert rc == 0, err
    expected = {
        name
        for name, spec in specs().items()
        if spec.path_prefix is not None and spec.public_gateway
    }
    # dbt_build is IAM-only (no API key): behind the local gateway, never the public one.
    assert set(value) == expected >= {"kpi", "abtest", "model"}
    assert "dbt_build" not in value
    for name, f in value.items():
        assert f["is_http"] and f["ingress"] == "all", name
        assert f["path_prefix"] == specs()[name].path_prefix


@needs_terraform
def test_terraform_fmt() -> None:
    result = subprocess.run(
        [TERRAFORM, "fmt", "-check", "-recursive", "-diff", str(INFRA)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout


@needs_terraform
def test_evaluated_pipeline_functions(tmp_path: Path) -> None:
    """The pipeline functions as their manifests deploy them: the real function.yaml files
    (copies, so the evaluation sees exactly what is committed) with the prod tfvars."""
    functions = tmp_path / "functions"
    for name in specs():
        (functions / name).mkdir(parents=True)
        shutil.copy(FUNCTIONS_DIR / name / "function.yaml", functions / name)
    evaluate = _console(tmp_path / "tf", functions)
    rc, value, err = evaluate(
        "{functions = local.functions, env = local.function_env, smoke = local.smoke_paths,"
        " schedules = local.schedules, subscriptions = local.subscriptions}",
        f"-var-file={INFRA / 'envs' / 'prod.tfvars'}",
    )
    assert rc == 0, err
    f = value["functions"]
    assert set(f) == set(specs()) >= {"dbt_build", "validate", "train"}
    # dbt_build: HTTP behind IAM (Cloud Scheduler's OIDC and var.invokers), no API key.
    build = f["dbt_build"]
    assert build["is_http"] and build["ingress"] == "all"
    assert value["smoke"]["dbt_build"] == "/pipeline/runs"
    assert build["warehouse"] == "write" and build["secret_settings"] == []
    assert build["publishes"] == ["dbt-build-completed"]
    # Its run ledger, and the experiment definitions it imports from the seed files once.
    # builds/pending/: the ingested batches no build has read yet (common/pipeline/pending.py).
    assert build["artifact_prefixes"] == ["runs/", "experiments/definitions/", "builds/pending/"]
    # data-ingested reaches it as a Pub/Sub push on POST /, with its own push identity.
    assert build["push_events"] == ["data-ingested"]
    assert value["subscriptions"]["dbt_build/data-ingested"]["is_http"]
    # The ledger answers while a build runs: one instance, several requests at once.
    assert (build["max_instances"], build["concurrency"]) == (1, 4)
    assert {fn["concurrency"] for name, fn in f.items() if name != "dbt_build"} == {1}
    assert set(value["schedules"]) == {"dbt-build-daily", "report-week-en", "report-week-de"}
    assert value["schedules"]["dbt-build-daily"]["function"] == "dbt_build"
    # weekly_report: fed by Cloud Scheduler through Pub/Sub, internal ingress, no API key.
    weekly = f["weekly_report"]
    assert not weekly["is_http"] and weekly["ingress"] == "internal"
    assert weekly["events"] == ["weekly-report-requested"] and weekly["secret_settings"] == []
    assert weekly["artifact_prefixes"] == ["reports/", "events/weekly_report/"]
    assert "weekly_report/weekly-report-requested" in value["subscriptions"]
    # validate: fed by dbt-build-completed, publishes the verdict.
    validate = f["validate"]
    assert not validate["is_http"] and validate["events"] == ["dbt-build-completed"]
    assert validate["artifact_prefixes"] == ["runs/", "events/validate/"]
    assert sorted(validate["publishes"]) == ["data-rejected", "data-validated"]
    # train: fed by validated data or a manual retrain, records its stage under runs/.
    assert f["train"]["events"] == ["data-validated", "model-retrain-requested"]
    assert "runs/" in f["train"]["artifact_prefixes"]
    assert set(value["subscriptions"]) >= {
        "train/data-validated",
        "train/model-retrain-requested",
        "validate/dbt-build-completed",
    }
    for env in value["env"].values():
        load_config({**env, "EXECKPI_API_KEYS": "k" * 24})  # raises if a function cannot start


def test_concurrent_functions_have_a_whole_cpu() -> None:
    """Cloud Run serves more than one request per instance only with at least one vCPU, which
    a 2nd-gen function gets from 2Gi of memory up."""
    units = {"Mi": 1, "Gi": 1024}
    for name in specs():
        own = manifest(name)
        if own.get("concurrency", 1) > 1:
            memory = own["memory"]
            assert int(memory[:-2]) * units[memory[-2:]] >= 2048, f"{name}: {memory}"


def test_build_lease_outlives_the_build() -> None:
    """A dbt build still running must never be taken over: the lease after which an unfinished
    build counts as dead is longer than the longest dbt_build can run."""
    lease = next(s for s in SETTINGS if s.name == "build_lease_seconds")
    assert lease.default is not None
    assert int(lease.parse(lease.default)) > specs()["dbt_build"].timeout_seconds


# --- smoke paths answer locally ------------------------------------------------------------------


def _smoke_path(name: str) -> str | None:
    """The path scripts/deploy/smoke_test.py GETs after a deploy, resolved as locals.tf does."""
    spec, given = specs()[name], manifest(name)
    if not spec.is_http or given.get("ingress", "all") != "all":
        return None
    return given.get("smoke_path", "/")


@pytest.mark.parametrize("name", sorted(n for n in specs() if _smoke_path(n)))
def test_smoke_path_answers_json_locally(execkpi_env, function_client, name: str) -> None:
    """The smoke path exists, needs no body and no data, and answers 2xx JSON on the local
    back-ends, with an empty warehouse (the functions' own tests cover their behaviour)."""
    import duckdb

    duckdb.connect(execkpi_env["EXECKPI_DUCKDB_PATH"]).close()
    response = function_client(name).get(_smoke_path(name))
    assert 200 <= response.status_code < 300, (response.status_code, response.get_data()[:300])
    assert response.is_json


@needs_terraform
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_evaluated_weekly_reports_run_on_the_shops_monday(console, env: str) -> None:
    var_file = f"-var-file={INFRA / 'envs' / f'{env}.tfvars'}"
    rc, value, err = console(
        "{http = local.http_schedules, event = local.event_schedules}", var_file
    )
    assert rc == 0, err
    assert set(value["event"]) == {"report-week-en", "report-week-de"}
    for key, job in value["event"].items():
        assert (job["event"], job["function"], job["schedule"]) == (
            "weekly-report-requested",
            None,
            "0 7 * * 1",
        ), key
        assert job["time_zone"] == "Europe/Berlin"  # var.reporting_time_zone's default
    assert set(value["http"]) == {"dbt-build-daily"}


@needs_terraform
def test_evaluated_schedules_refuse_a_job_with_both_targets_or_none(console) -> None:
    for job in (
        '{function = "dbt_build", event = "weekly-report-requested", schedule = "0 5 * * *"}',
        '{schedule = "0 5 * * *"}',
    ):
        rc, _, err = console(
            "local.schedules",
            "-var=project_id=execkpi-test",
            "-var=env=test",
            f"-var=schedules={{nightly = {job}}}",
        )
        assert rc != 0 and "Invalid value for variable" in err, job


# --- ingested data: the ingest function's curated Parquet, read by the build ------------------


def test_ingested_data_and_scores_are_external_tables_over_their_objects() -> None:
    bucket = "gs://${google_storage_bucket.artifacts.name}"
    table = tf().resource("google_bigquery_table", "parquet")
    assert expr(table["for_each"]) == "local.parquet_tables"
    assert expr(table["dataset_id"]) == 'google_bigquery_dataset.this["ingest"].dataset_id'
    (external,) = table["external_data_configuration"]
    assert external["source_format"] == "PARQUET"
    assert external["source_uris"] == [f"{bucket}/${{each.value.prefix}}/*"]
    (hive,) = external["hive_partitioning_options"]
    prefix = f"{bucket}/${{each.value.prefix}}/{{${{each.value.partition}}:DATE}}"
    assert (hive["mode"], hive["source_uri_prefix"]) == ("CUSTOM", prefix)
    # The schema comes from an object that exists before any batch or score does.
    schema = tf().resource("google_storage_bucket_object", "parquet_schema")
    assert expr(schema["for_each"]) == "local.parquet_tables"
    assert (
        schema["name"] == "${each.value.prefix}/${each.value.partition}=1970-01-01/schema.parquet"
    )
    assert schema["source"] == "${path.module}/${each.value.schema}"
    assert "parquet_schema[each.key].name" in external["reference_file_schema_uri"]


@needs_terraform
def test_the_external_tables_are_where_the_ingest_and_train_functions_write(console) -> None:
    """Evaluated: one table per ingested source and one for the scores, each reading the
    prefix its writer's object keys start with and partitioned by their date folder, its schema
    a file that exists."""
    from common.ml.batch_scores import scores_key

    rc, tables, err = console("local.parquet_tables")
    assert rc == 0, err
    sources = yaml.safe_load((REPO_ROOT / INGESTED_SOURCES).read_text())["sources"]
    ingested = {table["name"] for (source,) in [sources] for table in source["tables"]}
    assert set(tables) == ingested | {"conversion_scores"}
    written = {name: f"ingest/curated/{name}/ingested_on=2026-12-04/b.parquet" for name in ingested}
    written["conversion_scores"] = scores_key("conversion", date(2026, 12, 4), "v")
    for name, key in written.items():
        table = tables[name]
        assert key.startswith(f"{table['prefix']}/{table['partition']}=2026-12-04/"), name
        assert (INFRA / table["schema"]).is_file(), name


def test_ingested_schema_files_hold_the_dbt_sources_columns() -> None:
    import duckdb
    import pyarrow.parquet as pq

    from common.ingest.contracts import CONTRACTS
    from scripts.deploy.ingested_schemas import SCHEMAS_DIR, ingested_columns

    declared = ingested_columns()
    assert {p.stem for p in SCHEMAS_DIR.glob("*.parquet")} == set(declared)
    for table, columns in declared.items():
        path = (SCHEMAS_DIR / f"{table}.parquet").as_posix()
        with duckdb.connect() as con:
            found = con.execute(f"describe select * from read_parquet('{path}')").fetchall()
            rows = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()
        types = {"timestamp": "TIMESTAMP WITH TIME ZONE"}
        expected = [(n, types.get(k, k.upper())) for n, k in columns.items()]
        assert [(name, kind) for name, kind, *_ in found] == expected, table
        assert rows == (0,), table
        # The curated objects' schema exactly, every column nullable (BigQuery takes REQUIRED
        # from this file and would refuse a batch with an empty value).
        schema = pq.read_schema(path).remove_metadata()
        assert schema.equals(CONTRACTS[table].curated_schema), table
        assert all(field.nullable for field in schema), table


def test_the_build_reads_the_ingested_tables_and_nothing_else_does() -> None:
    roles = tf().locals["warehouse_roles"]
    assert roles["write"]["ingest"] == "roles/bigquery.dataViewer"
    assert "ingest" not in roles["read"]
    # BigQuery reads an external table's objects as the caller: the build's account reads
    # the artifact bucket (artifacts read or write), so ingest/curated/ too.
    assert permissions("dbt_build")["warehouse"] == "write"
    assert permissions("dbt_build")["artifacts"] in ("read", "write")
    builders = [n for n in specs() if permissions(n)["warehouse"] == "write"]
    assert builders == ["dbt_build"]


@needs_terraform
def test_evaluated_ingested_tables_follow_the_dbt_source(console) -> None:
    from scripts.deploy.ingested_schemas import ingested_columns

    rc, value, err = console(
        "{datasets = local.datasets, tables = local.ingested_tables}",
        "-var=project_id=execkpi-test",
        "-var=env=test",
    )
    assert rc == 0, err
    assert sorted(value["tables"]) == sorted(ingested_columns())
    # dbt's source schema is "{{ target.schema }}_ingest"; the prod target's schema is execkpi.
    assert value["datasets"]["ingest"] == "execkpi_ingest"


def test_landing_files_reach_their_function_by_push_with_least_privilege() -> None:
    """ingest_landing (trigger: {storage: landing}): the bucket notifies a topic on every
    finalized object; a push subscription delivers to the function as the trigger account,
    with the function's dead-letter topic; the function only reads that bucket."""
    assert expr(tf().locals["storage_triggers"]) == (
        "{for name, m in local.manifests : name => m.trigger.storage if can(m.trigger.storage)}"
    )
    spec = specs()["ingest_landing"]
    assert (spec.storage, spec.is_http, spec.events) == ("landing", False, ())
    notification = tf().resource("google_storage_notification", "landing")
    assert notification["event_types"] == ["OBJECT_FINALIZE"]
    assert notification["payload_format"] == "JSON_API_V1"
    push = tf().resource("google_pubsub_subscription", "landing_push")
    assert expr(push["for_each"]) == "local.storage_triggers"
    assert expr(push["topic"]) == "google_pubsub_topic.landing[each.value].id"
    (oidc,) = push["push_config"][0]["oidc_token"]
    assert expr(oidc["service_account_email"]) == "google_service_account.trigger[each.key].email"
    (dead,) = push["dead_letter_policy"]
    assert expr(dead["dead_letter_topic"]) == "google_pubsub_topic.dead_letter[each.key].id"
    reader = tf().resource("google_storage_bucket_iam_member", "landing_reader")
    assert reader["role"] == "roles/storage.objectViewer"
    assert expr(reader["bucket"]) == "google_storage_bucket.landing[each.value].name"
    assert expr(reader["member"]) == "google_service_account.runtime[each.key].member"
    grant = manifest("ingest_landing")["permissions"]
    assert (grant["artifacts"], grant["artifact_prefixes"]) == ("write", ["ingest/"])
    assert grant["publishes"] == ["data-ingested"]
