"""Fisher's exact test of a 2x2 conversion table, with R ``fisher.test``'s estimates.

The table's rows are the arms (treatment, control), its columns (successes, failures). Given
its margins, the treatment's successes X follow Fisher's noncentral hypergeometric
distribution, whose parameter is the odds ratio ψ (1 under the null). Everything below sums
that distribution over its support, built from the ratio of consecutive terms, so the cost
grows with the support's size (the table's smallest margin + 1), not with its total: scipy's
hypergeometric sums take seconds once the total passes 10**9 (15 s for 1/10 vs 1/10**10), and
its conditional odds ratio fails on large tables (an integer overflow at 10**10, a NaN on some
tables of 3·10**6).

- ``p_value``: two-sided, "minlike" (R's and scipy's definition): the probability of the
  tables no more likely than the observed one, within R's relative tolerance 1e-7.
- ``p_less`` / ``p_greater``: P(X ≤ x) / P(X ≥ x), for H1 "the treatment's odds are lower /
  higher than the control's" (the Sided names).
- ``odds_ratio``: the sample cross-product ratio (scipy's ``fisher_exact`` statistic);
  ``conditional_odds_ratio``: the ψ whose conditional mean of X is x, R's estimate and scipy's
  ``odds_ratio(kind="conditional")``; 0 or inf when x is at an end of the support.

Above MAX_SUPPORT the test is skipped, and ``skipped`` says why: every margin then exceeds
10**5, so the smallest expected cell, the smallest row times the smallest column over the
total, is at least 10**10 / total, 5 or more unless the total passes 2·10**9, and the z-test's
normal approximation is reliable there (the message gives the cell, and says when it is not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.stats.inputs import Sided

# The worst case at this support, a balanced table (every margin 10**5), took 38 ms of CPU (best
# of 7) on the shared, loaded 2-core development machine, the conditional MLE included; 10**6
# took 100 ms. Tables with a small margin, whatever their total, take well under 1 ms.
MAX_SUPPORT = 100_000
# R's relErr: tables this close to the observed one's probability count as "as extreme".
_RELATIVE_TOLERANCE = 1 + 1e-7
_MAX_NEWTON_STEPS = 200
_MAX_STEP = 5.0  # in log ψ: a factor of about 150 on the odds ratio
_TOLERANCE = 1e-10  # in log ψ: the estimate's relative precision


@dataclass(frozen=True)
class FisherExact:
    odds_ratio: float  # x_t (n_c - x_c) / ((n_t - x_t) x_c); inf or NaN on a zero cell
    p_value: float | None  # two-sided; None when skipped
    p_less: float | None
    p_greater: float | None
    conditional_odds_ratio: float | None  # NaN when a margin is 0
    skipped: str | None = None  # why the exact test was not computed

    def p(self, sided: Sided) -> float | None:
        return {"two-sided": self.p_value, "less": self.p_less, "greater": self.p_greater}[sided]


def _smallest_expected_cell(
    control_successes: float, control_n: float, treatment_successes: float, treatment_n: float
) -> float:
    """The smallest count the table would expect under independence."""
    total = control_n + treatment_n
    successes = control_successes + treatment_successes
    return min(control_n, treatment_n) * min(successes, total - successes) / total


def _log_weights(rows: tuple[int, int], successes: int) -> tuple[np.ndarray, np.ndarray]:
    """The support of X and its null log-probabilities, up to a constant."""
    treatment_n, control_n = rows
    lo, hi = max(0, successes - control_n), min(treatment_n, successes)
    k = np.arange(lo, hi, dtype=np.float64)
    # log P(k+1)/P(k) for the central hypergeometric distribution: exact ratios, no gamma
    # function of huge arguments, so no cancellation between terms of size log(total!).
    steps = np.log(
        (treatment_n - k) * (successes - k) / ((k + 1) * (control_n - successes + k + 1))
    )
    return np.arange(lo, hi + 1, dtype=np.float64), np.concatenate(([0.0], np.cumsum(steps)))


def _probabilities(log_weights: np.ndarray) -> np.ndarray:
    weights = np.exp(log_weights - log_weights.max())
    return weights / weights.sum()


def _conditional_mle(support: np.ndarray, log_weights: np.ndarray, x: int, log_psi: float) -> float:
    """Solves E_ψ[X] = x for ψ: Newton's method on log ψ, kept inside a bracket by bisection.

    E_ψ[X] increases with log ψ and its derivative is Var_ψ[X], so the log ψ values seen so far
    whose mean is below / above x bracket the root. ``log_psi``, the start, is the sample log
    odds ratio with Haldane's 1/2 per cell, close to the root; a step is at most _MAX_STEP
    long, because far from the root the variance can underflow to 0.
    """
    if x == support[0]:
        return 0.0
    if x == support[-1]:
        return np.inf
    lo, hi = -np.inf, np.inf
    for _ in range(_MAX_NEWTON_STEPS):
        p = _probabilities(log_weights + log_psi * support)
        mean = p @ support
        variance = p @ (support - mean) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.clip((x - mean) / variance, -_MAX_STEP, _MAX_STEP)
        if not abs(step) > _TOLERANCE:  # NaN: no variance left, and the mean is x
            break
        if mean < x:
            lo = log_psi
        else:
            hi = log_psi
        if not lo < log_psi + step < hi:  # only a finite end can be crossed: bisect
            step = (lo + hi) / 2 - log_psi
        log_psi += step
    return float(np.exp(log_psi))


def fisher_exact(
    control_successes: int, control_n: int, treatment_successes: int, treatment_n: int
) -> FisherExact:
    x_c, n_c, x_t, n_t = (
        int(v) for v in (control_successes, control_n, treatment_successes, treatment_n)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        sample = float(np.float64(x_t) * (n_c - x_c) / (np.float64(n_t - x_t) * x_c))
    successes = x_c + x_t
    smallest_margin = min(n_c, n_t, successes, n_c + n_t - successes)
    if smallest_margin > MAX_SUPPORT:
        expected = _smallest_expected_cell(x_c, n_c, x_t, n_t)
        reliable = "reliable" if expected >= 5 else "doubtful too (below 5)"
        return FisherExact(
            odds_ratio=sample,
            p_value=None,
            p_less=None,
            p_greater=None,
            conditional_odds_ratio=None,
            skipped=(
                f"Fisher's exact test skipped: every margin exceeds {MAX_SUPPORT}; the smallest "
                f"expected cell is {expected:.3g}, where the z-test's normal approximation is "
                f"{reliable}"
            ),
        )
    support, log_weights = _log_weights((n_t, n_c), successes)
    p = _probabilities(log_weights)
    at = x_t - int(support[0])
    two_sided = p[p <= p[at] * _RELATIVE_TOLERANCE].sum()
    haldane = np.log((x_t + 0.5) * (n_c - x_c + 0.5) / ((n_t - x_t + 0.5) * (x_c + 0.5)))
    conditional = (
        np.nan if support.size == 1 else _conditional_mle(support, log_weights, x_t, haldane)
    )
    return FisherExact(
        odds_ratio=sample,
        p_value=min(float(two_sided), 1.0),
        p_less=min(float(p[: at + 1].sum()), 1.0),
        p_greater=min(float(p[at:].sum()), 1.0),
        conditional_odds_ratio=conditional,
    )
