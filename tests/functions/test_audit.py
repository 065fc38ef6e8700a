"""The audit log: one Cloud Logging JSON line per KPI, A/B and model request, errors included,
read back from stdout as Cloud Logging would take it; who (API Gateway's end user, an API key's
fingerprint, a Cloud Run-verified ID token, else anonymous), what, which parameters (personal
data and secrets redacted), the outcome and the items answered. Health checks, CORS preflights
and the portal write none."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from common.audit import REDACTED, is_sensitive_name, looks_personal

API_KEY = "k3y-Of-The-Finance-Team-0042"


def audit_entries(capsys) -> list[dict]:
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    return [e for e in entries if e["logging.googleapis.com/labels"].get("log_type") == "audit"]


def only_entry(capsys) -> dict:
    entries = audit_entries(capsys)
    assert len(entries) == 1, entries
    return entries[0]


def b64url(claims: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()


def unsigned_jwt(claims: dict) -> str:
    """A real JWT (RFC 7519) without signature (alg none): header.payload. as Cloud Run passes
    a verified token on; the function reads its claims only."""
    return f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims)}."


# Loaded inside the test: a function logs to the sys.stdout of the moment it is loaded, and
# capsys replaces sys.stdout for the test's call only.
@pytest.fixture
def serve(function_client, generated_warehouse):
    def make(name: str, **settings: str):
        return function_client(name, EXECKPI_DUCKDB_PATH=str(generated_warehouse), **settings)

    return make


def test_a_kpi_answer_is_one_entry_with_its_rows(serve, capsys):
    kpi = serve("kpi")
    capsys.readouterr()
    response = kpi.get("/kpi/revenue?grain=month", headers={"X-Cloud-Trace-Context": "abc123/1"})
    assert response.status_code == 200
    entry = only_entry(capsys)
    assert entry["severity"] == "INFO" and entry["time"]
    assert entry["logging.googleapis.com/labels"] == {"component": "kpi", "log_type": "audit"}
    assert entry["logging.googleapis.com/trace"] == "abc123"  # joins Cloud Run's request log
    assert entry["serviceName"] == "kpi"
    assert entry["methodName"] == "kpi.run_kpi"
    assert entry["resourceName"] == "/kpi/revenue"
    assert entry["authenticationInfo"] == {"principalSubject": "anonymous"}
    assert entry["request"] == {
        "method": "GET",
        "path": "/kpi/revenue",
        "route": "/kpi/<name>",
        "query": {"grain": "month"},
    }
    assert entry["status"] == {"code": 0, "message": "ok"}
    assert entry["httpRequest"] == {
        "requestMethod": "GET",
        "requestUrl": "/kpi/revenue",
        "status": 200,
    }
    assert entry["numResponseItems"] == len(response.get_json()["rows"]) > 0


def test_a_download_counts_its_rows_and_a_post_logs_its_body(serve, capsys):
    kpi = serve("kpi")
    capsys.readouterr()
    csv = kpi.post("/kpi/revenue?format=csv", json={"grain": "week"})
    assert csv.status_code == 200
    entry = only_entry(capsys)
    assert entry["numResponseItems"] == len(csv.get_data(as_text=True).splitlines()) - 1
    assert entry["request"]["query"] == {"format": "csv"}
    assert entry["request"]["body"] == {"grain": "week"}


@pytest.mark.parametrize(
    ("path", "status", "rpc", "message", "method"),
    [
        ("/kpi/revenue?grain=year", 400, 3, "invalid_argument (grain)", "kpi.run_kpi"),
        ("/kpi/nope", 404, 5, "not_found (kpi)", "kpi.run_kpi"),
        ("/kpi/revenue/deeper", 404, 5, "not_found (path)", "kpi.unrouted"),
    ],
)
def test_failed_kpi_requests_get_an_entry(serve, capsys, path, status, rpc, message, method):
    kpi = serve("kpi")
    capsys.readouterr()
    assert kpi.get(path).status_code == status
    entry = only_entry(capsys)
    assert entry["severity"] == "WARNING"
    assert entry["methodName"] == method
    assert entry["status"] == {"code": rpc, "message": message}
    assert entry["httpRequest"]["status"] == status
    assert entry["numResponseItems"] == 0


def test_ab_requests(serve, capsys):
    abtest = serve("abtest")
    capsys.readouterr()
    body = {"a_success": 120, "a_total": 1000, "b_success": 150, "b_total": 1000}
    assert abtest.post("/ab/test", json=body).status_code == 200
    entry = only_entry(capsys)
    assert entry["methodName"] == "abtest.two_proportion_test"
    assert entry["request"]["body"] == body
    assert entry["numResponseItems"] == 1  # one comparison: B against A

    assert abtest.post("/ab/test", json={**body, "a_total": -1}).status_code == 400
    entry = only_entry(capsys)
    assert entry["status"]["code"] == 3 and entry["request"]["body"]["a_total"] == -1

    response = abtest.get("/ab/experiments/nope")
    assert response.status_code == 404
    entry = only_entry(capsys)
    assert entry["resourceName"] == "/ab/experiments/nope"
    assert entry["request"]["route"] == "/ab/experiments/<experiment_id>"
    assert entry["status"] == {"code": 5, "message": "not_found (experiment_id)"}

    assert abtest.get("/ab/experiments").status_code == 200
    experiments = abtest.get("/ab/experiments").get_json()["experiments"]
    assert [e["numResponseItems"] for e in audit_entries(capsys)] == [len(experiments)] * 2


def test_a_user_id_is_never_logged(serve, capsys):
    abtest = serve("abtest")
    capsys.readouterr()
    query = {"experiment_id": "checkout_one_click", "user_id": "48213", "variants": "a,b"}
    assert abtest.get("/ab/assign", query_string=query).status_code == 200
    entry = only_entry(capsys)
    assert entry["request"]["query"] == {**query, "user_id": REDACTED}
    assert entry["numResponseItems"] == 1


def test_model_requests(function_client, capsys, tmp_path):
    model = function_client("model", EXECKPI_ARTIFACT_DIR=str(tmp_path))
    capsys.readouterr()
    assert model.get("/ml/models").status_code == 200
    assert model.get("/ml/models?limit=0").status_code == 400
    assert model.get("/ml/latest").status_code == 404  # no champion yet
    rows = [{"age": 41, "gender": "F", "country": "Germany"}] * 3
    assert model.post("/ml/predict", json={"rows": rows}).status_code == 503
    entries = audit_entries(capsys)
    assert [e["methodName"] for e in entries] == [
        "model.models",
        "model.models",
        "model.latest",
        "model.predict",
    ]
    assert [e["httpRequest"]["status"] for e in entries] == [200, 400, 404, 503]
    assert entries[0]["numResponseItems"] == 0  # no model trained: an empty list
    assert entries[1]["request"]["query"] == {"limit": "0"}
    # A prediction's rows describe one user each: counted, never copied.
    assert entries[3]["request"]["body"] == {"rows": {"items": 3}}
    assert entries[3]["severity"] == "ERROR" and entries[3]["status"]["code"] == 14


def test_the_api_gateway_end_user_is_the_principal(serve, capsys):
    abtest = serve("abtest")
    capsys.readouterr()
    claims = {"iss": "https://accounts.google.com", "sub": "1098", "email": "ana@shop.example"}
    abtest.get("/ab/experiments", headers={"X-Apigateway-Api-Userinfo": b64url(claims)})
    assert only_entry(capsys)["authenticationInfo"] == {
        "principalSubject": "1098",
        "principalEmail": "ana@shop.example",
    }


def test_the_verified_id_token_is_the_principal(serve, capsys):
    abtest = serve("abtest")
    capsys.readouterr()
    token = unsigned_jwt(
        {
            "iss": "https://accounts.google.com",
            "aud": "https://abtest-xyz.a.run.app",
            "sub": "1177",
            "email": "reporting@shop-prod.iam.gserviceaccount.com",
        }
    )
    abtest.get("/ab/experiments", headers={"Authorization": f"Bearer {token}"})
    assert only_entry(capsys)["authenticationInfo"] == {
        "principalSubject": "1177",
        "principalEmail": "reporting@shop-prod.iam.gserviceaccount.com",
    }


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer a.%%%.c", "Basic dTpw"])
def test_an_unreadable_token_is_anonymous(serve, capsys, header):
    abtest = serve("abtest")
    capsys.readouterr()
    assert abtest.get("/ab/sample", headers={"Authorization": header}).status_code == 200
    assert only_entry(capsys)["authenticationInfo"] == {"principalSubject": "anonymous"}


def test_an_api_key_is_a_fingerprint_never_the_key(serve, capsys):
    client = serve("kpi", EXECKPI_API_KEYS=API_KEY)
    capsys.readouterr()
    assert client.get("/kpi", headers={"X-API-Key": API_KEY}).status_code == 200
    # A key sent where it does not belong, under a harmless name, is still not copied.
    bad = client.post("/kpi/revenue", json={"grain": API_KEY}, headers={"X-API-Key": API_KEY})
    assert bad.status_code == 400
    assert client.get("/kpi", headers={"X-API-Key": "wrong-key-of-16-chars"}).status_code == 401
    out = capsys.readouterr().out
    assert API_KEY not in out
    entries = [json.loads(line) for line in out.splitlines() if '"log_type": "audit"' in line]
    fingerprint = "apikey:" + hashlib.sha256(API_KEY.encode()).hexdigest()[:12]
    assert [e["authenticationInfo"]["principalSubject"] for e in entries] == [
        fingerprint,
        fingerprint,
        "anonymous",
    ]
    catalogue = client.get("/kpi", headers={"X-API-Key": API_KEY}).get_json()
    assert entries[0]["numResponseItems"] == len(catalogue["kpis"]) > 0
    assert entries[1]["request"]["body"] == {"grain": REDACTED}
    assert entries[2]["status"] == {"code": 16, "message": "unauthenticated (X-API-Key)"}


def test_audit_entries_ignore_the_log_level(serve, capsys):
    client = serve("kpi", EXECKPI_LOG_LEVEL="error")
    capsys.readouterr()
    assert client.get("/kpi/nope").status_code == 404
    assert only_entry(capsys)["severity"] == "WARNING"


@pytest.mark.parametrize("name", ["kpi", "abtest", "model"])
def test_health_checks_and_preflights_are_not_audited(function_client, capsys, name):
    client = function_client(name, EXECKPI_CORS_ORIGINS="https://app.example.com")
    capsys.readouterr()
    assert client.get("/healthz").status_code == 200
    assert client.get("/health").status_code == 200
    preflight = client.options("/", headers={"Origin": "https://app.example.com"})
    assert preflight.status_code == 204
    client.get("/no/such/route")  # the one audited request: proves the entries are seen
    assert [e["methodName"] for e in audit_entries(capsys)] == [f"{name}.unrouted"]


def test_the_portal_is_not_audited(function_client, capsys, tmp_path):
    portal = function_client("portal")
    model = function_client("model", EXECKPI_ARTIFACT_DIR=str(tmp_path))
    capsys.readouterr()
    assert portal.get("/").status_code == 200
    assert portal.get("/no/such/page").status_code == 404
    model.get("/ml/models")  # audited: proves the entries are seen
    assert [e["methodName"] for e in audit_entries(capsys)] == ["model.models"]


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [
        ("user_id", True),
        ("userId", True),
        ("customer_email", True),
        ("api_key", True),
        ("X-API-Key", True),
        ("ip", True),
        ("first_name", True),
        ("experiment_id", False),
        ("dimension", False),
        ("metric_name", False),
        ("users", False),  # a variant's unit count
        ("zip", False),
    ],
)
def test_names_of_personal_or_secret_parameters(name, sensitive):
    assert is_sensitive_name(name) is sensitive


@pytest.mark.parametrize(
    ("value", "personal"),
    [
        ("ana@shop.example", True),
        ("for ana@shop.example please", True),
        ("192.168.10.4", True),
        ("2001:db8::1", True),
        ("from 10.0.0.7, retry", True),
        ("2024-01-31", False),
        ("checkout_one_click", False),
        ("1.5", False),
    ],
)
def test_values_that_look_personal(value, personal):
    assert looks_personal(value) is personal
