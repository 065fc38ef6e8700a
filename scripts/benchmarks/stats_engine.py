"""A/B engine benchmark: per-analysis time next to gbstats on the same inputs (and the largest
difference between the two), analyses/s for 10k vectorised analyses, HTTP p50/p99 of the abtest
function under a steady local load, and its cold import against functions_framework.

gbstats (pip, 0.8) needs numpy<2 and pandas<2, so it runs in its own virtualenv
(.local/envs/gbstats, made with uv on first use) in a subprocess that reads the inputs and
prints timings and results as JSON.

    python -m scripts.benchmarks.stats_engine [--experiments 200] [--requests 600] [--rate 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import replace
from http.client import HTTPConnection
from pathlib import Path

import numpy as np

from common.stats import inputs
from common.stats.analyze import analyze, compare_arms
from scripts.benchmarks.ab_extremes import abtest_client
from scripts.benchmarks.cold_import import measure
from scripts.benchmarks.timing import best_seconds, samples_ms, stopwatch
from scripts.deploy.catalog import REPO_ROOT, discover
from scripts.deploy.function_envs import find_uv
from scripts.local.emulators import free_port, stop_process_group, wait_for_port

GBSTATS_ENV = REPO_ROOT / ".local" / "envs" / "gbstats"
GBSTATS_VERSION = "0.8.0"
MODES = {  # our options per mode; the gbstats worker runs the matching tests
    "fixed": inputs.Options(cuped=False, correction="none", bayesian=inputs.BayesianOptions()),
    "sequential": inputs.Options(
        cuped=False,
        correction="none",
        sequential=inputs.SequentialOptions(),
        bayesian=inputs.BayesianOptions(),
    ),
    "cuped": inputs.Options(cuped=True, correction="none", bayesian=inputs.BayesianOptions()),
}
SCALES = ("absolute", "relative")
OPTIONS = {  # gbstats' Bayesian model is the relative one: none on the absolute scale
    (mode, scale): replace(
        options, scale=scale, bayesian=None if scale == "absolute" else options.bayesian
    )
    for mode, options in MODES.items()
    for scale in SCALES
}

# Runs inside the gbstats virtualenv: inputs on stdin, {mode: {seconds, results}} on stdout.
GBSTATS_WORKER = textwrap.dedent(
    """
    import json, sys, time
    from gbstats.bayesian.tests import EffectBayesianABTest
    from gbstats.frequentist.tests import (
        FrequentistConfig, SequentialConfig, SequentialTwoSidedTTest, TwoSidedTTest)
    from gbstats.models.statistics import RegressionAdjustedStatistic, SampleMeanStatistic

    def stat(arm, cuped):
        post = SampleMeanStatistic(n=arm["n"], sum=arm["sum"], sum_squares=arm["sum_squares"])
        if not cuped:
            return post
        pre = SampleMeanStatistic(
            n=arm["n"], sum=arm["covariate_sum"], sum_squares=arm["covariate_sum_squares"])
        return RegressionAdjustedStatistic(
            n=arm["n"], post_statistic=post, pre_statistic=pre,
            post_pre_sum_of_products=arm["cross_product_sum"], theta=0)

    def frequentist(test, a, b, config):
        r = test(a, b, config).compute_result()
        return [r.expected, r.ci[0], r.ci[1], r.uplift.stddev, r.p_value]

    def run(mode, scale, exp):  # one analysis: the test, on the relative scale with Bayes
        cuped = mode == "cuped"
        a, b = stat(exp["control"], cuped), stat(exp["treatment"], cuped)
        if mode == "sequential":
            config = SequentialConfig(difference_type=scale)
            result = frequentist(SequentialTwoSidedTTest, a, b, config)
        else:
            result = frequentist(TwoSidedTTest, a, b, FrequentistConfig(difference_type=scale))
        if scale == "absolute":
            return result
        bayes = EffectBayesianABTest(a, b).compute_result()
        posterior = [bayes.chance_to_win, bayes.risk[0], bayes.risk[1], bayes.ci[0], bayes.ci[1]]
        return result + posterior

    payload = json.load(sys.stdin)
    out = {}
    for mode in payload["modes"]:
        for scale in ("absolute", "relative"):
            best = float("inf")  # the worker runs in gbstats' own environment: no shared timer
            for _ in range(payload["repeats"]):
                started = time.perf_counter()
                results = [run(mode, scale, exp) for exp in payload["experiments"]]
                best = min(best, time.perf_counter() - started)
            out[f"{mode} {scale}"] = {"seconds": best, "results": results}
    json.dump(out, sys.stdout)
    """
)


def make_experiments(count: int, seed: int = 20261122) -> list[dict]:
    """Per-user revenue-like metrics with a correlated pre-period covariate, as sums."""
    rng = np.random.default_rng(seed)
    experiments = []
    for _ in range(count):
        arms = {}
        for arm, lift in (("control", 1.0), ("treatment", 1 + rng.normal(0.02, 0.03))):
            n = int(rng.integers(500, 20000))
            x = rng.gamma(1.5, 20.0, n)
            y = lift * (0.6 * x + rng.gamma(1.2, 15.0, n))
            arms[arm] = {
                "n": n,
                "sum": float(y.sum()),
                "sum_squares": float((y * y).sum()),
                "covariate_sum": float(x.sum()),
                "covariate_sum_squares": float((x * x).sum()),
                "cross_product_sum": float((x * y).sum()),
            }
        experiments.append(arms)
    return experiments


def ours(mode: str, scale: str, exp: dict) -> list[float | None]:
    """One analysis on one scale, the fields gbstats computes for it."""
    variants = tuple(
        inputs.Variant(arm, {"m": inputs.Moments(**exp[arm])}) for arm in ("control", "treatment")
    )
    metrics = (inputs.Metric("m", "mean", "primary"),)
    c = analyze(inputs.Experiment(variants, metrics, OPTIONS[mode, scale])).comparisons[0]
    reported = c.absolute if scale == "absolute" else c.relative
    result = [reported.estimate, *reported.ci, reported.se, c.p_value]
    if scale == "absolute":
        return result
    b = c.bayesian
    return [
        *result,
        b.chance_to_beat_control,
        b.expected_loss_control,  # gbstats' risk: [keeping control, shipping treatment]
        b.expected_loss,
        *b.credible_interval,
    ]


def ensure_gbstats() -> Path:
    python = GBSTATS_ENV / "bin" / "python"
    if not python.exists():
        uv = find_uv()
        if uv is None:
            raise RuntimeError("uv is needed to create the gbstats virtualenv")
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        subprocess.run([uv, "venv", "--quiet", str(GBSTATS_ENV)], check=True, env=env)
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python),
                f"gbstats=={GBSTATS_VERSION}",
            ],
            check=True,
            env=env,
        )
    return python


def _gbstats_round(python: Path, payload: str) -> dict:
    done = subprocess.run(
        [str(python), "-c", GBSTATS_WORKER], input=payload, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"the gbstats worker failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _ours_round(experiments: list[dict], repeats: int) -> dict:
    out = {}
    for mode in MODES:
        for scale in SCALES:
            best, results = best_seconds(
                lambda m=mode, s=scale: [ours(m, s, exp) for exp in experiments], repeats
            )
            out[f"{mode} {scale}"] = {"seconds": best, "results": results}
    return out


def engine_vs_gbstats(experiments: list[dict], repeats: int, rounds: int) -> None:
    """Rounds alternate between gbstats and us, so drift on the machine hits both alike."""
    python = ensure_gbstats()
    payload = json.dumps({"modes": list(MODES), "experiments": experiments, "repeats": repeats})
    ours("fixed", "relative", experiments[0])  # the first analysis loads scipy
    theirs, mine = [], []
    for _ in range(rounds):
        theirs.append(_gbstats_round(python, payload))
        mine.append(_ours_round(experiments, repeats))
    print(f"engine vs gbstats {GBSTATS_VERSION}: {len(experiments)} two-arm mean-metric analyses")
    print("(one analysis on one scale: the effect with its interval and p-value, and on the")
    print("relative scale the Bayesian read-out; ours also decides and writes the summary;")
    print(f"best of {rounds} alternating rounds x {repeats} repeats)\n")
    print("| mode, scale | ours µs/analysis | gbstats µs/analysis | speed-up | max |difference| |")
    print("|---|---:|---:|---:|---:|")
    for mode in (f"{m} {s}" for m in MODES for s in SCALES):
        ours_us = min(r[mode]["seconds"] for r in mine) / len(experiments) * 1e6
        theirs_us = min(r[mode]["seconds"] for r in theirs) / len(experiments) * 1e6
        diff = max(
            abs(a - b)
            for row, gb in zip(mine[0][mode]["results"], theirs[0][mode]["results"], strict=True)
            for a, b in zip(row, gb, strict=True)
        )
        speedup = theirs_us / ours_us
        print(f"| {mode} | {ours_us:.0f} | {theirs_us:.0f} | {speedup:.1f}x | {diff:.1e} |")
    print()


def vectorised(count: int) -> None:
    rng = np.random.default_rng(7)
    n_c, n_t = rng.integers(1000, 50000, count).astype(float), rng.integers(1000, 50000, count)
    n_t = n_t.astype(float)
    s_c, s_t = n_c * rng.normal(20, 2, count), n_t * rng.normal(20.4, 2, count)
    control = inputs.Moments(n_c, s_c, s_c**2 / n_c + 400 * (n_c - 1))
    treatment = inputs.Moments(n_t, s_t, s_t**2 / n_t + 420 * (n_t - 1))
    conversions = (
        inputs.Moments(n_c, np.floor(n_c * 0.1)),
        inputs.Moments(n_t, np.floor(n_t * 0.104)),
    )
    print(f"vectorised: {count} experiments per call (compare_arms on numpy arrays)\n")
    print("| analysis | seconds per call | analyses/s |")
    print("|---|---:|---:|")
    cases = {
        "mean, fixed + Bayesian": ("mean", control, treatment, MODES["fixed"]),
        "mean, sequential + Bayesian": ("mean", control, treatment, MODES["sequential"]),
        "proportion, fixed + Bayesian": ("proportion", *conversions, MODES["fixed"]),
        "proportion, absolute (score intervals)": (
            "proportion",
            *conversions,
            replace(MODES["fixed"], scale="absolute", bayesian=None),
        ),
    }
    for label, (kind, c, t, options) in cases.items():
        compare_arms(kind, c, t, options)
        seconds, _ = best_seconds(
            lambda k=kind, c=c, t=t, o=options: compare_arms(k, c, t, o), runs=5
        )
        print(f"| {label} | {seconds:.4f} | {count / seconds:,.0f} |")
    print()


def _ratio_arm(rng: np.random.Generator, n: int, lift: float) -> dict:
    """Revenue per session with last month's revenue per session as its CUPED covariate."""
    d, e = rng.poisson(3, n) + 1.0, rng.poisson(3, n) + 1.0  # sessions now and before
    x = e * rng.gamma(2.0, 5.0, n)
    y = lift * (0.5 * x / e * d + d * rng.gamma(2.0, 4.0, n))
    return {
        "n": n, "sum": y.sum(), "sum_squares": (y * y).sum(),
        "denominator_sum": d.sum(), "denominator_sum_squares": (d * d).sum(),
        "numerator_denominator_sum": (y * d).sum(),
        "covariate_sum": x.sum(), "covariate_sum_squares": (x * x).sum(),
        "cross_product_sum": (x * y).sum(),
        "ratio_covariate": {
            "denominator_sum": e.sum(), "denominator_sum_squares": (e * e).sum(),
            "numerator_denominator_sum": (x * e).sum(),
            "metric_numerator_denominator_sum": (y * e).sum(),
            "metric_denominator_denominator_sum": (d * e).sum(),
            "metric_denominator_numerator_sum": (d * x).sum(),
        },
    }  # fmt: skip


def _toolbox_cases() -> dict[str, tuple[str, dict]]:
    """One request per analysis of the toolbox, each at a costly but allowed size."""
    rng = np.random.default_rng(11)
    conversions = [{"n": 100_000, "sum": 50_000}, {"n": 100_000, "sum": 50_600}]
    raw = [rng.lognormal(3, 1, 10_000).round(2).tolist() for _ in range(2)]

    def two_arms(metrics: list[dict], arms: list[dict], **options) -> dict:
        name = metrics[0]["name"]
        variants = [{"name": v, "metrics": {name: arm}} for v, arm in zip("ab", arms, strict=True)]
        return {"variants": variants, "metrics": metrics, "options": options}

    proportion = [{"name": "conversion", "type": "proportion"}]
    revenue = [{"name": "revenue", "type": "mean"}]
    return {
        "default read-out (proportion)": ("/ab/analyze", two_arms(proportion, conversions)),
        "Fisher's exact test (margins 100k)": (
            "/ab/analyze",
            two_arms(proportion, conversions, fisher=True),
        ),
        "Beta-binomial (100k draws)": (
            "/ab/analyze",
            two_arms(proportion, conversions, bayesian={"model": "beta_binomial"}),
        ),
        "P90 from 2 x 10k raw values": (
            "/ab/analyze",
            two_arms(
                [{"name": "p90", "type": "quantile", "level": 0.9}],
                [{"values": v} for v in raw],
            ),
        ),
        "P99-capped mean, 2 x 10k raw values": (
            "/ab/analyze",
            two_arms([{**revenue[0], "cap": {"quantile": 0.99}}], [{"values": v} for v in raw]),
        ),
        "CUPED ratio metric": (
            "/ab/analyze",
            two_arms(
                [{"name": "revenue_per_session", "type": "ratio"}],
                [_ratio_arm(rng, 20_000, 1.0), _ratio_arm(rng, 20_000, 1.02)],
            ),
        ),
        "group-sequential, look 3 of 5 (OBF)": (
            "/ab/analyze",
            two_arms(
                proportion,
                conversions,
                group_sequential={"information_fractions": [0.2, 0.4, 0.6, 0.8, 1], "look": 3},
            ),
        ),
        "one-sided always-valid": (
            "/ab/analyze",
            two_arms(proportion, conversions, sequential=True, sided="greater"),
        ),
        "power: pooled n per arm": ("/ab/power", {"baseline": 0.03, "mde": 0.05}),
        "power: t-test MDE, 5 arms, days": (
            "/ab/power",
            {
                "metric": "mean",
                "baseline": 40,
                "sd": 60,
                "n_per_arm": 5000,
                "arms": 5,
                "daily_traffic": 8000,
                "mde_type": "absolute",
            },
        ),
        "power: sequential delta n": (
            "/ab/power",
            {"baseline": 0.03, "mde": 0.05, "method": "delta", "sequential": True},
        ),
    }


def toolbox(runs: int) -> None:
    """Each analysis of the toolbox as a request through the function's own app."""
    with tempfile.TemporaryDirectory(prefix="bench-stats-toolbox-") as tmp:
        os.environ.setdefault("EXECKPI_DUCKDB_PATH", str(Path(tmp) / "none.duckdb"))
        client = abtest_client()
        print(f"toolbox: one request each through the abtest app (median and max of {runs})\n")
        print("| analysis | median ms | max ms |")
        print("|---|---:|---:|")
        for label, (path, body) in _toolbox_cases().items():

            def post(path=path, body=body, label=label):
                response = client.post(path, json=body)
                if response.status_code != 200:
                    raise RuntimeError(f"{label}: {response.get_data(as_text=True)}")

            timings = samples_ms(post, runs, warmup=1)
            print(f"| {label} | {statistics.median(timings):.1f} | {max(timings):.1f} |")
    print()


def _request(conn: HTTPConnection, path: str, body: bytes) -> float:
    with stopwatch() as took:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}")
    return took.ms


def http_load(requests: int, rate: float, clients: int = 4) -> None:
    """Open-loop load: request i is due at i / rate seconds, spread over a few connections."""
    spec = next(s for s in discover() if s.name == "abtest")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-stats-") as tmp:
        env = {**os.environ, "EXECKPI_DUCKDB_PATH": str(Path(tmp) / "none.duckdb")}
        command = [sys.executable, "-m", "functions_framework", "--target", spec.entry_point]
        command += ["--source", str(spec.source), "--host", "127.0.0.1", "--port", str(port)]
        bodies = _bodies()
        server = subprocess.Popen(
            command,
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            first = HTTPConnection("127.0.0.1", port, timeout=30)
            with stopwatch() as cold:  # from the process's start, as wait_for_port polls it
                wait_for_port(port, timeout=60, process=server)
                first_ms = _request(first, "/ab/test", bodies["/ab/test"])
            latencies = _steady(port, bodies, requests, rate, clients)
        finally:
            stop_process_group(server)
    print(f"HTTP: functions-framework on 127.0.0.1, {requests} requests at {rate:g}/s, ")
    print(f"{clients} keep-alive connections, half /ab/test and half /ab/analyze\n")
    print(f"process start to first answer: {cold.ms:.0f} ms (first request {first_ms:.0f} ms)\n")
    print("| endpoint | requests | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for path, values in latencies.items():
        values = sorted(values)
        p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
        print(
            f"| {path} | {len(values)} | {statistics.median(values):.2f} | {p99:.2f} "
            f"| {values[-1]:.2f} |"
        )
    print()


def _bodies() -> dict[str, bytes]:
    legacy = {"a_success": 13880, "a_total": 49962, "b_success": 13971, "b_total": 50038}
    arm = {
        "conversion": {"n": 8000, "sum": 2300},
        "revenue": {"n": 8000, "sum": 160000.0, "sum_squares": 1.9e7},
    }
    analysis = {
        "variants": [
            {"name": "control", "metrics": arm},
            {"name": "treatment", "metrics": {**arm, "conversion": {"n": 8050, "sum": 2420}}},
        ],
        "options": {"sequential": True},
    }
    return {"/ab/test": json.dumps(legacy).encode(), "/ab/analyze": json.dumps(analysis).encode()}


def _steady(port: int, bodies: dict, requests: int, rate: float, clients: int) -> dict:
    latencies: dict[str, list[float]] = {path: [] for path in bodies}
    paths = list(bodies)
    start = time.perf_counter() + 0.2
    lock = threading.Lock()

    def client(index: int) -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(index, requests, clients):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            path = paths[i % len(paths)]
            ms = _request(conn, path, bodies[path])
            with lock:
                latencies[path].append(ms)
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def cold_import(runs: int) -> None:
    spec = next(s for s in discover() if s.name == "abtest")
    with tempfile.TemporaryDirectory(prefix="bench-stats-cold-") as tmp:
        result = measure(spec, runs, Path(tmp))
    ratio = result["main"] / result["functions_framework"]
    print(f"cold import (median of {runs} fresh processes, env with only abtest's requirements):")
    print(
        f"import functions_framework {result['functions_framework']:.0f} ms, "
        f"import main {result['main']:.0f} ms: ratio {ratio:.2f} (goal <= 2); "
        f"heavy modules loaded: {', '.join(result['heavy']) or 'none'}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vectorised", type=int, default=10_000)
    parser.add_argument("--toolbox-runs", type=int, default=20)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--cold-runs", type=int, default=7)
    args = parser.parse_args(argv)
    cpus = len(os.sched_getaffinity(0))
    print(
        f"machine: nproc={cpus} loadavg={os.getloadavg()[0]:.2f} python={sys.version.split()[0]}\n"
    )
    engine_vs_gbstats(make_experiments(args.experiments), args.repeats, args.rounds)
    vectorised(args.vectorised)
    toolbox(args.toolbox_runs)
    http_load(args.requests, args.rate)
    cold_import(args.cold_runs)


if __name__ == "__main__":
    main()
