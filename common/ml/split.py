"""Which rows train, which validate, which judge.

The holdout is the latest snapshot dates: the model is judged on weeks it never saw, as it will
be used. Without dates (a flat table) it is a stratified random quarter. Within the training
period, stratified folds keep the rare positive class evenly spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RANDOM_HOLDOUT_SHARE = 0.25


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # row indices
    holdout: np.ndarray
    train_dates: tuple[str, ...]  # ISO dates; empty without a time column
    holdout_dates: tuple[str, ...]


def time_split(
    time: np.ndarray | None, label: np.ndarray, holdout_snapshots: int, seed: int
) -> Split:
    if time is None:
        folds = stratified_folds(label, round(1 / RANDOM_HOLDOUT_SHARE), seed)
        return Split(np.flatnonzero(folds != 0), np.flatnonzero(folds == 0), (), ())
    dates = np.unique(time)
    if len(dates) <= holdout_snapshots:
        raise ValueError(
            f"{len(dates)} snapshot dates cannot hold out the latest {holdout_snapshots}"
        )
    held = time >= dates[-holdout_snapshots]
    iso = [str(d) for d in dates]
    return Split(
        np.flatnonzero(~held),
        np.flatnonzero(held),
        tuple(iso[:-holdout_snapshots]),
        tuple(iso[-holdout_snapshots:]),
    )


def stratified_folds(
    label: np.ndarray, folds: int, seed: int, groups: np.ndarray | None = None
) -> np.ndarray:
    """A fold number per row; each class is shuffled, then dealt round-robin.

    With ``groups``, whole groups are dealt instead (stratified on whether the group has a
    positive row): a user's weekly snapshots are near-copies of each other, and splitting them
    across folds would score the model on rows it has all but seen.
    """
    rng = np.random.default_rng(seed)
    if groups is not None:
        unique, row_group = np.unique(groups, return_inverse=True)
        has_positive = np.bincount(row_group, weights=label, minlength=len(unique)) > 0
        return stratified_folds(has_positive.astype(np.int8), folds, seed)[row_group]
    assignment = np.empty(len(label), dtype=np.int8)
    for value in np.unique(label):
        rows = np.flatnonzero(label == value)
        assignment[rng.permutation(rows)] = np.arange(len(rows)) % folds
    return assignment


def sample_rows(rows: int, at_most: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a seeded uniform sample of ``at_most`` rows (all rows if fewer)."""
    if at_most is None or rows <= at_most:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, at_most, replace=False))
