"""Which segments benefit: a T-learner fitted on one half of the users, judged on the other.

The users are split at random (seeded) into a fitting half and an evaluation half. On the
fitting half one gradient-boosted model per arm learns the outcome from the covariates (the
pre-period values and the chosen features' levels); their difference is the T-learner's
predicted effect of each user. On the evaluation half, which neither model has seen, each
segment (one level of one chosen feature) gets

- ``predicted``: the mean predicted effect of its users (the model's view; boosting shrinks it
  towards no effect), and
- ``observed``: treatment mean - control mean of its users, with a normal interval and p-value.

The test is the observed difference, not a bootstrap of the predictions: the arms stay randomised
within a segment of the evaluation half, so the difference is unbiased for the segment's effect
with a closed-form standard error, whereas resampling the evaluation rows of a fixed model
measures neither the model's own fitting noise nor its shrinkage, and refitting per draw would
not fit the function's time limit. The two halves keep the model that suggests segments
independent of the rows that test them.

The p-values of all segments looked at are corrected with Holm's method (the A/B engine's
default): a claim is made about each named segment, so the chance of naming any segment wrongly
(the family-wise error) is what is held at alpha; with tens of segments Holm loses little power
against Benjamini-Hochberg, which would only bound the share of wrong names among the found ones.
Each interval is at the level that agrees with its adjusted p-value (``corrections``).
Segment findings stay exploratory: the answer says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from common.ml.effects.adjusted import Estimate
from common.ml.effects.design import covariates, pooled_levels
from common.ml.effects.users import ExperimentUsers
from common.stats import corrections

SEED = 20261204
# Bounds that keep one request within the function's time limit (the benchmark
# scripts/benchmarks/effect_models.py prints the fit time at 100k and 650k users).
MAX_FIT_USERS_PER_ARM = 50_000  # a seeded sample of the fitting half beyond this
TREES = 100
DEPTH = 3
MIN_ARM_USERS = 20  # per arm in the evaluation half, for a segment to be tested
# Cochran's rule for the normal interval of a mean: n > 25 * skewness^2 in each arm. Revenue is
# skewed (few buyers, a long tail of large orders): a small segment's difference in means is far
# from normal, and its p-value too small, so it is listed untested rather than judged.
COCHRAN = 25
WARNING = (
    "Segment effects are exploratory: they were searched for after the experiment, among "
    "{tested} segments. Holm's correction keeps the chance of any false finding at "
    "alpha, but confirm a segment with an experiment of its own before acting on it."
)


@dataclass(frozen=True)
class Halves:
    fit: np.ndarray  # row positions
    evaluate: np.ndarray


def split_halves(n: int, seed: int = SEED) -> Halves:
    order = np.random.default_rng(seed).permutation(n)
    return Halves(np.sort(order[: n // 2]), np.sort(order[n // 2 :]))


def _fit_arm(x: np.ndarray, y: np.ndarray, target: str):
    import xgboost as xgb  # lazily: seconds of import, paid by this endpoint only

    model = xgb.XGBRegressor(
        n_estimators=TREES,
        max_depth=DEPTH,
        learning_rate=0.1,
        min_child_weight=20,
        subsample=0.8,
        objective="binary:logistic" if target == "conversion" else "reg:squarederror",
        tree_method="hist",
        max_bin=64,  # the inputs are indicators and two pre-period values
        n_jobs=2,
        random_state=SEED,
    )
    return model.fit(x, y)


def predicted_effects(
    users: ExperimentUsers, features: Sequence[str], target: str, halves: Halves
) -> np.ndarray:
    """The T-learner's predicted effect of every user of the evaluation half."""
    x, _ = covariates(users, features)
    y = users.outcome(target)
    rng = np.random.default_rng(SEED)
    models = []
    for arm in (False, True):
        rows = halves.fit[users.treated[halves.fit] == arm]
        if rows.size > MAX_FIT_USERS_PER_ARM:
            rows = np.sort(rng.choice(rows, MAX_FIT_USERS_PER_ARM, replace=False))
        models.append(_fit_arm(x[rows], y[rows], target))
    x_eval = x[halves.evaluate]
    return models[1].predict(x_eval) - models[0].predict(x_eval)


def segment_tests(
    held_out: ExperimentUsers, features: Sequence[str], target: str, alpha: float
) -> tuple[list[dict], list[dict]]:
    """Each segment's difference in means on ``held_out`` with Holm's adjusted p-value, most
    significant first, and the segments too small to test; each segment's ``members`` mask
    picks its users."""
    y = held_out.outcome(target)
    tested, untested = [], []
    for feature in features:
        levels = pooled_levels(held_out.segments[feature])
        for level in np.unique(levels.astype(str)):
            members = levels == level
            treated, control = y[members & held_out.treated], y[members & ~held_out.treated]
            reason = _untestable(treated, control)
            if reason:
                untested.append(
                    {
                        "feature": feature,
                        "level": level,
                        "users": int(members.sum()),
                        "reason": reason,
                    }
                )
                continue
            diff = treated.mean() - control.mean()
            se = np.sqrt(treated.var(ddof=1) / treated.size + control.var(ddof=1) / control.size)
            observed = Estimate.normal(diff, se, alpha)
            tested.append(
                {
                    "feature": feature,
                    "level": level,
                    "members": members,
                    "users": {"control": control.size, "treatment": treated.size},
                    "observed": observed,
                }
            )
    adjusted = corrections.adjust([s["observed"].p_value for s in tested], "holm")
    for segment, p_adj in zip(tested, adjusted, strict=True):
        observed = segment["observed"]
        level_alpha = corrections.interval_level(alpha, observed.p_value, p_adj)
        shown = Estimate.normal(observed.value, observed.se, level_alpha)
        segment["observed"] = {**shown.as_dict(), "p_value": observed.p_value}
        segment["ci_level"] = 1 - level_alpha
        segment["p_value_adjusted"] = p_adj
        segment["finding"] = "no_effect_found"
        if p_adj <= alpha:
            segment["finding"] = "benefits" if observed.value > 0 else "harmed"
    tested.sort(key=lambda s: (s["p_value_adjusted"], -s["observed"]["estimate"]))
    return tested, untested


def _untestable(treated: np.ndarray, control: np.ndarray) -> str | None:
    """Why a segment's difference in means cannot be judged by a normal test, or None."""
    if min(treated.size, control.size) < MIN_ARM_USERS:
        return f"fewer than {MIN_ARM_USERS} users in an arm"
    needed = max(COCHRAN * _skewness(arm) ** 2 for arm in (treated, control))
    if min(treated.size, control.size) <= needed:
        return f"too skewed for its size: Cochran's rule needs more than {needed:.0f} users per arm"
    return None


def _skewness(values: np.ndarray) -> float:
    centred = values - values.mean()
    spread = np.mean(centred**2)
    return 0.0 if spread == 0 else float(np.mean(centred**3) / spread**1.5)


def segment_effects(
    users: ExperimentUsers, features: Sequence[str], target: str, alpha: float
) -> dict:
    halves = split_halves(len(users))
    predicted = predicted_effects(users, features, target, halves)
    tested, untested = segment_tests(users.take(halves.evaluate), features, target, alpha)
    segments = [
        {
            "feature": s["feature"],
            "level": s["level"],
            "users": s["users"],
            "predicted": float(predicted[s["members"]].mean()),
            **{k: s[k] for k in ("observed", "ci_level", "p_value_adjusted", "finding")},
        }
        for s in tested
    ]
    return {
        "learner": {
            "kind": "t_learner",
            "model": "xgboost",
            "trees": TREES,
            "max_depth": DEPTH,
            "fit_users": int(halves.fit.size),
            "evaluation_users": int(halves.evaluate.size),
            "seed": SEED,
        },
        "correction": "holm",
        "segments": segments,
        "untested": untested,
        "warning": WARNING.format(tested=len(segments)),
    }
