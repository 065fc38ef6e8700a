"""The regressors of the effect models: the arm, the pre-period values and one indicator per
level of each chosen segment feature.

Levels with fewer than ``MIN_LEVEL_USERS`` users are pooled as 'other' (the marts' breakdowns
pool the same way, by count): a handful of users per level adds a parameter and no information,
and a level without a conversion makes the logistic fit diverge. The most common level of each
feature is the reference and has no column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from common.ml.effects.users import ExperimentUsers

MIN_LEVEL_USERS = 100
OTHER = "other"


def pooled_levels(levels: np.ndarray) -> np.ndarray:
    """The levels with rare ones replaced by 'other'."""
    values, counts = np.unique(levels.astype(str), return_counts=True)
    rare = values[counts < MIN_LEVEL_USERS]
    text = levels.astype(str)
    return np.where(np.isin(text, rare), OTHER, text).astype(object)


@dataclass(frozen=True)
class Design:
    matrix: np.ndarray  # float, one row per user; column 1 is the arm
    names: tuple[str, ...]

    TREATED = 1  # the column of the arm indicator

    def with_arm(self, treated: float) -> np.ndarray:
        """The matrix with everyone in one arm (for the average predicted difference)."""
        swapped = self.matrix.copy()
        swapped[:, self.TREATED] = treated
        return swapped


def covariates(users: ExperimentUsers, features: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Pre-period values and segment indicators, without the intercept and the arm."""
    columns = [users.pre_converted, np.log1p(np.maximum(users.pre_revenue, 0.0))]
    names = ["pre_converted", "log1p_pre_revenue"]
    for feature in features:
        if feature == "returning":  # already the pre_converted column
            continue
        levels = pooled_levels(users.segments[feature])
        values, counts = np.unique(levels.astype(str), return_counts=True)
        reference = values[np.argmax(counts)]
        for value in values:
            if value != reference:
                columns.append((levels == value).astype(float))
                names.append(f"{feature}={value}")
    matrix = np.column_stack(columns)
    varying = matrix.std(axis=0) > 0  # a constant column would duplicate the intercept
    return matrix[:, varying], [n for n, keep in zip(names, varying, strict=True) if keep]


def design(users: ExperimentUsers, features: Sequence[str]) -> Design:
    extra, names = covariates(users, features)
    n = len(users)
    matrix = np.column_stack([np.ones(n), users.treated.astype(float), extra])
    return Design(matrix, ("intercept", "treated", *names))
