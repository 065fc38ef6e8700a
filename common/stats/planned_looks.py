"""A comparison at look k of a group-sequential design (``options.group_sequential``).

The design's boundary c_k (``group_sequential``, alpha spent over the planned looks) has a
nominal level a_k: the fixed-sample p-value of a z-statistic on the boundary. The comparison runs
its own fixed-horizon test (its scale, its family) at level a_k: the boundary is crossed when the
fixed-horizon p-value is at most a_k, and that test's interval is the repeated confidence
interval (for a z-test, estimate ± c_k·SE; Welch's t uses the t quantile of the same level).
The p-value reported is p·alpha/a_k (at most 1): at most alpha exactly when the boundary is
crossed, and the fixed-horizon one for a single look at t = 1.

A correction that moves a comparison's alpha to alpha' = alpha·p/p_adjusted moves its level to
a_k·alpha'/alpha, so its interval excludes 0 exactly when the adjusted p-value is at most alpha,
as for every other test. That scales the look's nominal level by the correction rather than
re-spending alpha' over the looks.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from common.stats import group_sequential
from common.stats.frequentist import Effect
from common.stats.inputs import GroupSequentialOptions, Options
from common.stats.results import GroupSequentialDesign, GroupSequentialLook

# One design per analysis, asked for once per comparison: computed once (it takes milliseconds).
_boundaries = functools.lru_cache(maxsize=16)(group_sequential.boundaries)


def design(options: Options) -> group_sequential.Design:
    g: GroupSequentialOptions = options.group_sequential
    return group_sequential.Design(
        g.information_fractions, options.alpha, options.sided, g.spending, g.rho
    )


def _nominal(options: Options) -> float:
    return _boundaries(design(options)).nominal_alpha[options.group_sequential.look - 1]


def level(options: Options, alpha: float) -> float:
    """The fixed-horizon level of the test at the look; alpha: options.alpha or a corrected one."""
    return _nominal(options) * alpha / options.alpha


def p_value_at_look(effect: Effect, options: Options) -> Effect:
    """The effect of ``level``'s test with its p-value on the design's alpha scale."""
    nominal = _nominal(options)
    if nominal == 0:  # the design spends nothing by this look: it cannot be crossed
        return replace(effect, p_value=np.where(np.isnan(effect.p_value), np.nan, 1.0))
    return replace(effect, p_value=np.minimum(effect.p_value * options.alpha / nominal, 1.0))


def _bound(z: float) -> float | None:
    return z if np.isfinite(z) else None


def look_result(options: Options, crossed: bool) -> GroupSequentialLook | None:
    if options.group_sequential is None:
        return None
    b = _boundaries(design(options))
    k = options.group_sequential.look - 1
    return GroupSequentialLook(
        look=k + 1,
        information_fraction=b.information_fractions[k],
        boundary=_bound(b.z[k]),
        nominal_alpha=b.nominal_alpha[k],
        alpha_spent=b.alpha_spent[k],
        crossed=crossed,
    )


def design_result(options: Options) -> GroupSequentialDesign | None:
    """Every planned look's boundary: a look's boundary depends only on the looks before it."""
    if options.group_sequential is None:
        return None
    b = _boundaries(design(options))
    return GroupSequentialDesign(
        information_fractions=b.information_fractions,
        boundaries=tuple(_bound(z) for z in b.z),
        nominal_alpha=b.nominal_alpha,
        alpha_spent=b.alpha_spent,
    )
