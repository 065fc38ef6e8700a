"""Extreme inputs through every A/B route: no answer may be a 5xx, and none may take long.

Posts a sweep (tiny and huge n up to the input limits and beyond, no and all successes,
values near 1e308, NaN and Infinity literals, deep nesting, unequal arms, 20 arms x 50 metrics,
sequential / CUPED / Bayesian options, the toolbox's costly read-outs at their bounds, extreme
power and assignment queries) through the abtest function in functions-framework's test client,
one request per case, and prints the count by status class, every 5xx, the slowest cases and the
worst time. No warehouse stands behind it: the routes that read one are tested elsewhere.
tests/functions/test_abtest_extremes.py runs the small sweep and asserts no 5xx.

    python -m scripts.benchmarks.ab_extremes [--arms 20] [--metrics 50]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from common.validation import MAX_COUNT
from scripts.benchmarks.timing import stopwatch
from scripts.deploy.catalog import discover

HUGE = 1e308
LEGACY = {"a_success": 13880, "a_total": 49962, "b_success": 13971, "b_total": 50038}


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    path: str
    body: str | None = None  # raw JSON text: NaN, Infinity and 400-digit integers stay as sent
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    case: Case
    status: int
    ms: float


def _post(label: str, path: str, body: object) -> Case:
    text = body if isinstance(body, str) else json.dumps(body)
    return Case(label, "POST", path, text)


def _legacy(**change: object) -> dict:
    return {**LEGACY, **change}


def legacy_cases() -> Iterator[Case]:
    big = MAX_COUNT
    vectors = {
        "readme example": LEGACY,
        "0/0 vs 0/0": _legacy(a_success=0, a_total=0, b_success=0, b_total=0),
        "0/0 vs 5/10": _legacy(a_success=0, a_total=0, b_success=5, b_total=10),
        "all successes": _legacy(a_success=100, a_total=100, b_success=100, b_total=100),
        "a all successes": _legacy(a_success=49962),
        "no successes": _legacy(a_success=0, b_success=0),
        "1/1 vs 0/1": _legacy(a_success=1, a_total=1, b_success=0, b_total=1),
        "1/10 vs 1/1e12": _legacy(a_success=1, a_total=10, b_success=1, b_total=10**12),
        "1/10 vs 1/2**53": _legacy(a_success=1, a_total=10, b_success=1, b_total=big),
        "2**52/2**53 both": _legacy(
            a_success=big // 2, a_total=big, b_success=big // 2, b_total=big
        ),
        "1/2**53 vs 2**53/2**53": _legacy(a_success=1, a_total=big, b_success=big, b_total=big),
        "a_total 2**53+1": _legacy(a_total=big + 1),
        "a_total 1e308": _legacy(a_total=HUGE),
        "alpha 1e-300": _legacy(alpha=1e-300),
        "alpha 0.7": _legacy(alpha=0.7),
        "a_success string": _legacy(a_success="1"),
    }
    for label, body in vectors.items():
        yield _post(f"test {label}", "/ab/test", body)
    raw = {
        "a_total 10**400": json.dumps(LEGACY).replace("49962", str(10**400)),
        "a_total 5000 digits": json.dumps(LEGACY).replace("49962", "9" * 5000),
        "NaN": json.dumps(LEGACY).replace("13880", "NaN"),
        "Infinity": json.dumps(LEGACY).replace("49962", "Infinity"),
        "-Infinity alpha": json.dumps({**LEGACY, "alpha": 0}).replace("0}", "-Infinity}"),
        "1e999": json.dumps(LEGACY).replace("50038", "1e999"),
        "nested 100000 deep": '{"a_success":' + "[" * 100_000 + "]" * 100_000 + "}",
    }
    for label, text in raw.items():
        yield _post(f"test {label}", "/ab/test", text)


def _arm(name: str, metrics: dict, units: float | None = None) -> dict:
    arm: dict = {"name": name, "metrics": metrics}
    if units is not None:
        arm["units"] = units
    return arm


def _two_arms(control: dict, treatment: dict, **extra: object) -> dict:
    return {"variants": [_arm("c", {"m": control}), _arm("t", {"m": treatment})], **extra}


def _wide(arms: int, metrics: int, options: dict) -> dict:
    """arms x metrics, each metric a mean with CUPED covariates, differing a little by arm."""
    variants = []
    for a in range(arms):
        stats = {}
        for m in range(metrics):
            n, mean = 10_000 + 37 * a, 10.0 + 0.01 * a + m
            stats[f"m{m}"] = {
                "n": n,
                "sum": n * mean,
                "sum_squares": n * (mean * mean + 4.0),
                "covariate_sum": n * mean * 0.9,
                "covariate_sum_squares": n * ((0.9 * mean) ** 2 + 3.0),
                "cross_product_sum": n * (0.9 * mean * mean + 2.5),
            }
        variants.append(_arm(f"v{a}", stats))
    return {"variants": variants, "options": options}


def analyze_cases(arms: int, metrics: int) -> Iterator[Case]:
    big = MAX_COUNT
    limit_sq = 1e300 / big  # n·Σv² at the limit for n = 2**53
    normal = {"n": 1000, "sum": 5000.0, "sum_squares": 30000.0}
    vectors = {
        "proportions at 2**53": _two_arms({"n": big, "sum": big // 3}, {"n": big, "sum": big // 2}),
        "proportion n 2**53+1": _two_arms({"n": big + 1, "sum": 1}, {"n": 10, "sum": 1}),
        "proportion 1 vs 2**53": _two_arms({"n": 1, "sum": 1}, {"n": big, "sum": 0}),
        "mean at n·Σv² limit": _two_arms(
            {"n": big, "sum": (limit_sq * big) ** 0.5 / 2, "sum_squares": limit_sq},
            {"n": big, "sum": (limit_sq * big) ** 0.5 / 3, "sum_squares": limit_sq},
        ),
        "mean Σv² 1e308": _two_arms({"n": 10, "sum": 1, "sum_squares": HUGE}, normal),
        "mean n 1, Σv² 1e300": _two_arms({"n": 1, "sum": 1e150, "sum_squares": 1e300}, normal),
        "mean sum -1e154": _two_arms({"n": 2, "sum": -1e154, "sum_squares": 1e300}, normal),
        "values ±1e308": _two_arms({"values": [HUGE, -HUGE]}, {"values": [1, 2]}),
        "values 1e154 x 2": _two_arms({"values": [1e154, 1e154]}, {"values": [1, 2]}),
        "values 1e149 x 1000": _two_arms({"values": [1e149] * 1000}, {"values": [1, 2]}),
        "values tiny": _two_arms({"values": [5e-324, -5e-324]}, {"values": [0.0, 5e-324]}),
        "values one each": _two_arms({"values": [1.0]}, {"values": [2.0]}),
        "n 0 both": _two_arms({"n": 0, "sum": 0}, {"n": 0, "sum": 0}),
        "n 1 mean": _two_arms({"n": 1, "sum": 3, "sum_squares": 9}, normal),
        "no variance": _two_arms(
            {"n": 100, "sum": 100, "sum_squares": 100},
            {"n": 100, "sum": 200, "sum_squares": 400},
        ),
        "ratio extremes": _two_arms(
            {
                "n": 10,
                "sum": 1e140,
                "sum_squares": 1e290,
                "denominator_sum": 1e-300,
                "denominator_sum_squares": 1e-300,
                "numerator_denominator_sum": 1e-10,
            },
            {
                "n": 10,
                "sum": 5,
                "sum_squares": 30,
                "denominator_sum": 10,
                "denominator_sum_squares": 12,
                "numerator_denominator_sum": 6,
            },
        ),
        "cuped covariate at limit": _two_arms(
            {
                **normal,
                "covariate_sum": 1e148,
                "covariate_sum_squares": 1e297,
                "cross_product_sum": 1e150,
            },
            {
                **normal,
                "covariate_sum": -1e148,
                "covariate_sum_squares": 1e297,
                "cross_product_sum": -1e150,
            },
        ),
        "cuped no covariate variance": _two_arms(
            {
                **normal,
                "covariate_sum": 1000,
                "covariate_sum_squares": 1000,
                "cross_product_sum": 5000,
            },
            {
                **normal,
                "covariate_sum": 1000,
                "covariate_sum_squares": 1000,
                "cross_product_sum": 5000,
            },
        ),
        "units 2**53 vs 1": {
            "variants": [
                _arm("c", {"m": {"n": 10, "sum": 1}}, units=big),
                _arm("t", {"m": {"n": 10, "sum": 1}}, units=1),
            ]
        },
        "units 1e308": {
            "variants": [
                _arm("c", {"m": {"n": 10, "sum": 1}}, units=HUGE),
                _arm("t", {"m": {"n": 10, "sum": 1}}, units=HUGE),
            ]
        },
        "20 arms at 2**53 units": {
            "variants": [_arm(f"v{i}", {"m": {"n": 10, "sum": 1}}, units=big) for i in range(20)]
        },
    }
    options = {
        "alpha 1e-300": {"alpha": 1e-300},
        "alpha 1-1e-16": {"alpha": 1 - 1e-16},
        "srm_threshold 1e-300": {"srm_threshold": 1e-300},
        "sequential tuning 1e308": {"sequential": {"tuning": HUGE}},
        "sequential tuning 1e-308": {"sequential": {"tuning": 1e-308}},
        "bayesian prior_sd 1e-308": {"bayesian": {"prior_mean": 0, "prior_sd": 1e-308}},
        "bayesian prior_sd 1e308": {"bayesian": {"prior_mean": HUGE, "prior_sd": HUGE}},
        "mde 1e-308, power 1e-16": {"mde": 1e-308, "power": 1e-16},
        "mde 1e308, absolute scale": {"mde": HUGE, "scale": "absolute"},
        "weights 1e-300": {"weights": [1e-300, 1 - 1e-300]},
        "one-sided, bonferroni": {"sided": "less", "correction": "bonferroni", "scale": "absolute"},
    }
    for label, opts in options.items():
        vectors[f"options {label}"] = _two_arms(
            {"n": 1000, "sum": 100}, {"n": 1000, "sum": 130}, options=opts
        )
    wide = {
        "fixed + CUPED + bayesian": {"bayesian": {"prior_mean": 0, "prior_sd": 0.3}},
        "sequential + CUPED": {"sequential": True, "correction": "bh"},
        "no CUPED, absolute scale": {"cuped": False, "scale": "absolute", "mde": 0.01},
    }
    for label, opts in wide.items():
        vectors[f"{arms} arms x {metrics} metrics, {label}"] = _wide(arms, metrics, opts)
    for label, body in vectors.items():
        yield _post(f"analyze {label}", "/ab/analyze", body)
    nan = json.dumps(_two_arms({"values": [1.0, 2.0]}, {"values": [3.0, 4.0]}))
    yield _post("analyze NaN in values", "/ab/analyze", nan.replace("2.0", "NaN"))
    yield _post("analyze Infinity n", "/ab/analyze", nan.replace("4.0", "Infinity"))
    deep = '{"variants":' + "[" * 100_000 + "]" * 100_000 + "}"
    yield _post("analyze nested 100000 deep", "/ab/analyze", deep)
    wide_deep = '{"options":' + '{"a":' * 5000 + "1" + "}" * 5000 + "}"
    yield _post("analyze options nested 5000 deep", "/ab/analyze", wide_deep)


def toolbox_cases() -> Iterator[Case]:
    """The read-outs whose cost grows with their inputs, at and beyond their bounds."""
    big = MAX_COUNT
    halves = [{"n": 100_000, "sum": 50_000 + 60 * i} for i in range(8)]
    eight = {  # the most proportion comparisons a request may ask Fisher or Beta-binomial for
        "variants": [
            _arm("c", {f"m{i}": arm for i, arm in enumerate(halves)}),
            _arm("t", {f"m{i}": {**arm, "sum": arm["sum"] + 600} for i, arm in enumerate(halves)}),
        ]
    }
    both = {"fisher": True, "bayesian": {"model": "beta_binomial"}}
    quantile = [{"name": "m", "type": "quantile", "level": 0.9}]
    vectors = {
        "Fisher + Beta-binomial, 8 comparisons at margins 100k": {**eight, "options": both},
        "Fisher, 9 comparisons": {
            "variants": [
                {**arm, "metrics": {**arm["metrics"], "m8": {"n": 10, "sum": 1}}}
                for arm in eight["variants"]
            ],
            "options": {"fisher": True},
        },
        "Fisher at 2**53": _two_arms(
            {"n": big, "sum": 1}, {"n": big, "sum": big // 2}, options={"fisher": True}
        ),
        "Beta-binomial at 2**53": _two_arms(
            {"n": big, "sum": big - 1},
            {"n": big, "sum": 1},
            options={"bayesian": {"model": "beta_binomial"}, "scale": "absolute"},
        ),
        "P90 of 2 x 100k raw values": _two_arms(
            {"values": [float(i % 977) for i in range(100_000)]},
            {"values": [float(i % 983) for i in range(100_000)]},
            metrics=quantile,
        ),
        "P90 statistics at 1e308": _two_arms(
            {"n": big, "quantile": HUGE, "lower": -HUGE, "upper": HUGE},
            {"n": 10, "quantile": 1, "lower": 0, "upper": 2},
            metrics=quantile,
        ),
        "P99 cap of 2 x 100k raw values": _two_arms(
            {"values": [float(i % 977) for i in range(100_000)]},
            {"values": [float(i % 983) for i in range(100_000)]},
            metrics=[{"name": "m", "type": "mean", "cap": {"quantile": 0.99}}],
        ),
        "group-sequential, 20 looks": _two_arms(
            {"n": 1000, "sum": 100},
            {"n": 1000, "sum": 130},
            options={"group_sequential": {"information_fractions": [i / 20 for i in range(1, 21)]}},
        ),
        "group-sequential, 21 looks": _two_arms(
            {"n": 1000, "sum": 100},
            {"n": 1000, "sum": 130},
            options={"group_sequential": {"information_fractions": [i / 21 for i in range(1, 22)]}},
        ),
        "one-sided always-valid, alpha 1e-300": _two_arms(
            {"n": 1000, "sum": 100},
            {"n": 1000, "sum": 130},
            options={"sequential": True, "sided": "less", "alpha": 1e-300},
        ),
    }
    for label, body in vectors.items():
        yield _post(f"toolbox {label}", "/ab/analyze", body)


def power_cases() -> Iterator[Case]:
    vectors = {
        "baseline 1e-300": {"baseline": 1e-300, "mde": 0.1},
        "baseline 1-1e-16": {"baseline": 1 - 1e-16, "mde": -0.1},
        "mde 1e-300": {"baseline": 0.1, "mde": 1e-300},
        "mde near 1": {"baseline": 0.5, "mde": 0.9999999999},
        "n_per_arm 2": {"baseline": 0.1, "n_per_arm": 2},
        "n_per_arm 1e308": {"baseline": 0.1, "n_per_arm": HUGE},
        "n_per_arm 1e308 with mde": {"baseline": 0.1, "mde": 0.1, "n_per_arm": HUGE},
        "alpha 1e-300": {"baseline": 0.1, "mde": 0.1, "alpha": 1e-300},
        "power 1-1e-16": {"baseline": 0.1, "mde": 0.1, "power": 1 - 1e-16},
        "mean sd 1e-308": {
            "metric": "mean",
            "baseline": 1,
            "sd": 1e-308,
            "mde": HUGE,
            "mde_type": "absolute",
        },
        "mean sd 1e308": {
            "metric": "mean",
            "baseline": 1,
            "sd": HUGE,
            "mde": 1e-308,
            "mde_type": "absolute",
        },
        "mean baseline 1e308": {"metric": "mean", "baseline": HUGE, "sd": 1, "mde": 0.5},
    }
    for label, body in vectors.items():
        yield _post(f"power {label}", "/ab/power", body)
    yield _post("power NaN baseline", "/ab/power", '{"baseline": NaN, "mde": 0.1}')


def assign_cases() -> Iterator[Case]:
    ids = {"experiment_id": "e" * 100, "user_id": "u" * 100}
    queries = {
        "longest names": {**ids, "variants": "a,b"},
        "names too long": {"experiment_id": "e" * 101, "user_id": "1", "variants": "a,b"},
        "20 variants": {**ids, "variants": ",".join(f"v{i}" for i in range(20))},
        "weights 1e-300": {**ids, "variants": "a,b", "weights": "1e-300,1"},
        "weights 1e308": {**ids, "variants": "a,b", "weights": "1e308,1e308"},
        "weights nan": {**ids, "variants": "a,b", "weights": "nan,1"},
        "weights inf": {**ids, "variants": "a,b", "weights": "inf,0"},
    }
    for label, query in queries.items():
        yield Case(f"assign {label}", "GET", "/ab/assign", query=query)


def sample_cases() -> Iterator[Case]:
    yield Case("sample", "GET", "/ab/sample")
    yield Case("sample with a query", "GET", "/ab/sample", query={"x": "1"})


def sweep(arms: int, metrics: int) -> list[Case]:
    return [
        *legacy_cases(),
        *analyze_cases(arms, metrics),
        *toolbox_cases(),
        *power_cases(),
        *assign_cases(),
        *sample_cases(),
    ]


def abtest_client():
    """functions-framework's app for abtest, as the tests load it (no warehouse behind it)."""
    from functions_framework import create_app

    spec = next(s for s in discover() if s.name == "abtest")
    return create_app(spec.entry_point, str(spec.source), spec.signature_type).test_client()


def send(client, case: Case) -> Outcome:
    with stopwatch() as took:
        if case.method == "GET":
            response = client.get(case.path, query_string=case.query)
        else:
            response = client.post(case.path, data=case.body, content_type="application/json")
        response.get_data()
    return Outcome(case, response.status_code, took.ms)


def report(outcomes: list[Outcome], slowest: int = 10) -> None:
    classes = Counter(f"{o.status // 100}xx" for o in outcomes)
    failures = [o for o in outcomes if o.status >= 500]
    print(f"requests: {len(outcomes)}")
    print("by status class: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
    print(f"5xx: {len(failures)}")
    for o in failures:
        print(f"  {o.status} {o.case.label}")
    print(f"\nslowest {slowest}:\n")
    print("| case | status | ms |")
    print("|---|---:|---:|")
    for o in sorted(outcomes, key=lambda o: o.ms, reverse=True)[:slowest]:
        print(f"| {o.case.label} | {o.status} | {o.ms:.1f} |")
    print(f"\nworst case: {max(o.ms for o in outcomes):.1f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", type=int, default=20)
    parser.add_argument("--metrics", type=int, default=50)
    args = parser.parse_args(argv)
    cpus = len(os.sched_getaffinity(0))
    print(
        f"machine: nproc={cpus} loadavg={os.getloadavg()[0]:.2f} python={sys.version.split()[0]}\n"
    )
    with tempfile.TemporaryDirectory(prefix="bench-ab-extremes-") as tmp:
        os.environ["EXECKPI_DUCKDB_PATH"] = str(Path(tmp) / "none.duckdb")
        os.environ.setdefault("EXECKPI_LOG_LEVEL", "error")
        client = abtest_client()
        # Not timed: the first analyses load scipy.special, and raw values scipy.stats.
        send(client, Case("warm-up", "POST", "/ab/test", json.dumps(LEGACY)))
        raw = _two_arms({"values": [1.0, 2.0]}, {"values": [2.0, 3.0]})
        send(client, _post("warm-up values", "/ab/analyze", raw))
        cases = sweep(args.arms, args.metrics)
        with stopwatch(f"{len(cases)} requests"):
            outcomes = [send(client, case) for case in cases]
    report(outcomes)


if __name__ == "__main__":
    main()
