"""Smoke test of deployed HTTP functions: one health-safe GET each, with an identity token.

    python -m scripts.deploy.smoke_test --terraform-outputs build/terraform-outputs.json
    python -m scripts.deploy.smoke_test --url kpi=https://execkpi-kpi-xyz.a.run.app/ --token "$T"

Targets come from ``terraform output -json`` (``smoke_targets``: name -> {url, path}) or from
``--url name=URL[/path]``. Every request carries ``Authorization: Bearer <id token>``: the token
given with ``--token`` (or ``SMOKE_ID_TOKEN``), otherwise one minted per function URL (audience)
by google-auth from the environment's credentials (Cloud Build: the metadata server; there
``NO_GCE_CHECK`` must not be ``true``). Where the functions require API keys, ``X-API-Key`` is
the first key of ``SMOKE_API_KEY`` or of the Secret Manager version ``--api-key-secret`` names
(the functions' own EXECKPI_API_KEYS secret, a comma-separated list).

A function passes when it answers 2xx with a JSON body. Deploys settle for a while (cold
starts, IAM propagation), so 403, 429, 5xx and connection errors are retried with backoff;
any other answer fails at once. Exit status: 0 all passed, 1 a function failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

RETRY_STATUSES = frozenset({403, 429, 500, 502, 503, 504})
API_KEY_HEADER = "X-API-Key"
_SECRET_VERSION = re.compile(r"projects/[^/]+/secrets/[^/]+/versions/[^/]+")


class UsageError(ValueError):
    """Bad arguments or an outputs file without targets."""


@dataclass(frozen=True)
class Target:
    name: str
    url: str  # the function's base URL (also the token audience)
    path: str = "/"

    @property
    def audience(self) -> str:
        return self.url.rstrip("/")

    @property
    def endpoint(self) -> str:
        return self.audience + (self.path if self.path.startswith("/") else "/" + self.path)


@dataclass(frozen=True)
class Result:
    target: Target
    ok: bool
    status: int | None
    attempts: int
    elapsed_ms: float
    detail: str


def _check_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{name}: {url!r} is not an http(s) URL")
    return url


def targets_from_terraform_outputs(outputs: dict) -> list[Target]:
    """Targets from ``terraform output -json`` (its ``smoke_targets`` output)."""
    try:
        value = outputs["smoke_targets"]["value"]
    except (KeyError, TypeError):
        raise UsageError("the Terraform outputs have no smoke_targets output") from None
    if not isinstance(value, dict):
        raise UsageError("smoke_targets must map function names to {url, path}")
    targets = []
    for name, spec in sorted(value.items()):
        if not isinstance(spec, dict) or not isinstance(spec.get("url"), str):
            raise UsageError(f"smoke_targets.{name} must be an object with a url")
        path = spec.get("path") or "/"
        targets.append(Target(name, _check_url(name, spec["url"]), path))
    return targets


def target_from_arg(arg: str) -> Target:
    """``name=https://host[/path]``: the path (default /) is what gets requested."""
    name, sep, url = arg.partition("=")
    if not sep or not name or not url:
        raise UsageError(f"--url takes name=URL, got {arg!r}")
    parts = urlsplit(_check_url(name, url))
    base = f"{parts.scheme}://{parts.netloc}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(name, base, path)


def google_id_token(audience: str) -> str:
    """An identity token for ``audience`` from the environment's Google credentials."""
    import google.auth.transport.requests
    from google.auth import exceptions
    from google.oauth2 import id_token

    try:
        return id_token.fetch_id_token(google.auth.transport.requests.Request(), audience)
    except exceptions.DefaultCredentialsError as exc:
        hint = " (NO_GCE_CHECK=true hides the metadata server)" if _no_gce_check() else ""
        raise UsageError(f"cannot mint an identity token for {audience}: {exc}{hint}") from exc


def secret_value(version: str) -> str:
    """The payload of a Secret Manager secret version, read with the environment's credentials."""
    if not _SECRET_VERSION.fullmatch(version):
        raise UsageError(f"{version!r} is not projects/<p>/secrets/<s>/versions/<v>")
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    url = f"https://secretmanager.googleapis.com/v1/{version}:access"
    response = AuthorizedSession(credentials).get(url, timeout=30)
    if response.status_code != 200:
        raise UsageError(f"cannot read {version}: HTTP {response.status_code}")
    return base64.b64decode(response.json()["payload"]["data"]).decode()


def first_key(keys: str | None) -> str | None:
    """The first of comma-separated API keys (EXECKPI_API_KEYS' format), or None."""
    return next((k.strip() for k in (keys or "").split(",") if k.strip()), None)


def _no_gce_check() -> bool:
    return os.environ.get("NO_GCE_CHECK", "").lower() == "true"


def check(
    target: Target,
    token: str,
    *,
    api_key: str | None = None,
    timeout: float = 30.0,
    attempts: int = 6,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    """GET the target until it answers for good; at most ``attempts`` requests."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if api_key:
        headers[API_KEY_HEADER] = api_key
    started = time.perf_counter()
    status: int | None = None
    detail = ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(target.endpoint, headers=headers, method="GET")
        retry = False
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
                body = response.read()
                content_type = response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            status, body, content_type = exc.code, exc.read(), exc.headers.get_content_type()
            retry = status in RETRY_STATUSES
            detail = f"HTTP {status}: {body[:200].decode(errors='replace').strip()}"
        except (urllib.error.URLError, OSError) as exc:
            status, retry = None, True
            detail = f"no answer: {getattr(exc, 'reason', exc)}"
        else:
            elapsed = (time.perf_counter() - started) * 1000
            if content_type != "application/json":
                detail = f"HTTP {status} but {content_type}, not JSON"
                return Result(target, False, status, attempt, elapsed, detail)
            try:
                json.loads(body)
            except ValueError:
                return Result(target, False, status, attempt, elapsed, "invalid JSON body")
            return Result(target, True, status, attempt, elapsed, "")
        if not retry or attempt == attempts:
            break
        sleep(backoff * 2 ** (attempt - 1))
    elapsed = (time.perf_counter() - started) * 1000
    return Result(target, False, status, attempt, elapsed, detail)


def run(
    targets: Sequence[Target],
    *,
    token: str | None,
    token_for: Callable[[str], str] = google_id_token,
    **options,
) -> list[Result]:
    tokens: dict[str, str] = {}
    results = []
    for target in targets:
        if token is None and target.audience not in tokens:
            tokens[target.audience] = token_for(target.audience)
        results.append(check(target, token or tokens[target.audience], **options))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--terraform-outputs", type=Path, help="`terraform output -json` file")
    source.add_argument("--url", action="append", help="name=URL[/path], repeatable")
    parser.add_argument("--token", default=os.environ.get("SMOKE_ID_TOKEN"), help="ID token")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--attempts", type=int, default=6, help="requests per function at most")
    parser.add_argument("--backoff", type=float, default=2.0, help="first retry delay, doubling")
    parser.add_argument("--api-key-secret", help="projects/P/secrets/S/versions/V of API keys")
    args = parser.parse_args(argv)
    try:
        keys = secret_value(args.api_key_secret) if args.api_key_secret else None
        api_key = first_key(keys or os.environ.get("SMOKE_API_KEY"))
        if args.terraform_outputs:
            outputs = json.loads(args.terraform_outputs.read_text())
            targets = targets_from_terraform_outputs(outputs)
        else:
            targets = [target_from_arg(a) for a in args.url]
        if not targets:
            raise UsageError("no HTTP function to smoke-test")
        results = run(
            targets,
            token=args.token,
            api_key=api_key,
            timeout=args.timeout,
            attempts=max(1, args.attempts),
            backoff=args.backoff,
        )
    except (UsageError, OSError, ValueError) as exc:
        print(f"smoke test: {exc}", file=sys.stderr)
        return 2
    for r in results:
        verdict = "ok  " if r.ok else "FAIL"
        status = r.status if r.status is not None else "-"
        line = f"{verdict} {r.target.name:<14} {status!s:>3} {r.elapsed_ms:7.0f} ms"
        line += f"  GET {r.target.endpoint}  ({r.attempts} attempt{'s' * (r.attempts > 1)})"
        print(line + (f"  {r.detail}" if r.detail else ""))
    failed = [r.target.name for r in results if not r.ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
