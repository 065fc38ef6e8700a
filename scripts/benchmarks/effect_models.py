"""Effect model benchmark: the fit time of POST /ml/effects' models on simulated users
(scripts/data/experiment_users.py, an effect in one country) at 100k and 650k exposed users:
the adjusted average effect (logistic regression and OLS) and the segment search (a T-learner
of two XGBoost models on half the users, at most ``segments.MAX_FIT_USERS_PER_ARM`` per arm,
then the segment tests on the other half), wall and CPU seconds (on a shared machine the CPU
time is the steadier figure; xgboost uses 2 threads). xgboost's import is timed apart.

    nice -n 5 python -m scripts.benchmarks.effect_models [--users 100000 650000]
"""

from __future__ import annotations

import argparse
import time

from common.ml.effects import adjusted, segments
from common.ml.effects.design import design
from scripts.benchmarks.timing import stopwatch
from scripts.data.experiment_users import simulate_users

FEATURES = ("country", "browser", "traffic_source", "returning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100_000, 650_000])
    args = parser.parse_args()
    with stopwatch("import xgboost") as took:
        import xgboost  # noqa: F401
    print(f"xgboost import: {took.seconds:.2f} s")
    print(f"{'users':>8} {'logistic':>9} {'ols':>7} {'segments':>9} {'segments CPU':>13}   (s)")
    for n in args.users:
        users = simulate_users(n, seed=1, lift_by_country={"China": 0.05})
        d = design(users, FEATURES)
        with stopwatch() as logistic:
            adjusted.conversion_effect(d, users.converted, 0.05)
        with stopwatch() as ols:
            adjusted.revenue_effect(d, users.revenue, 0.05)
        cpu = time.process_time()
        with stopwatch(f"segments at {n:,} users") as search:
            segments.segment_effects(users, FEATURES, "conversion", 0.05)
        cpu = time.process_time() - cpu
        print(
            f"{n:>8} {logistic.seconds:>9.2f} {ols.seconds:>7.2f} {search.seconds:>9.2f}"
            f" {cpu:>13.2f}"
        )


if __name__ == "__main__":
    main()
