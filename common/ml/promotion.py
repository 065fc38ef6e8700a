"""Champion/challenger: when a new version may replace the champion in LATEST.

Gates, both on the new run's holdout (the latest weeks):

1. the challenger's ROC-AUC is at least the configured floor;
2. it is not worse than the champion's ROC-AUC *re-scored on that same holdout* by more than the
   configured tolerance (comparing with the AUC the champion had on its own, older holdout would
   mix up model quality with how hard each period is to predict).

A challenger that passes is written to LATEST by compare-and-swap against the LATEST the
decision was based on. If another run promoted in between, the swap fails and the decision is
taken again against the new champion, so two concurrent runs cannot both believe they won.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.artifacts import PreconditionFailed
from common.ml.registry import Pointer, Registry

SWAP_ATTEMPTS = 5


class IncomparableChampion(Exception):
    """The champion cannot score the new holdout (e.g. it reads a feature that is gone)."""


@dataclass(frozen=True)
class Gates:
    auc_floor: float
    auc_tolerance: float


@dataclass(frozen=True)
class PromotionDecision:
    promoted: bool
    reasons: tuple[str, ...]
    champion_before: str | None
    champion_auc: float | None  # the champion re-scored on the new holdout

    def to_json(self) -> dict[str, Any]:
        return {
            "promoted": self.promoted,
            "reasons": list(self.reasons),
            "champion_before": self.champion_before,
            "champion_auc_on_this_holdout": self.champion_auc,
        }


def judge(
    challenger_auc: float, champion: str | None, champion_auc: float | None, gates: Gates
) -> PromotionDecision:
    """The gates, without side effects. ``champion_auc`` None: nothing to compare with."""
    reasons, passed = [], True
    if challenger_auc >= gates.auc_floor:
        reasons.append(f"holdout ROC-AUC {challenger_auc:.4f} >= floor {gates.auc_floor:.4f}")
    else:
        passed = False
        reasons.append(f"holdout ROC-AUC {challenger_auc:.4f} < floor {gates.auc_floor:.4f}")
    if champion_auc is not None:
        margin = challenger_auc - champion_auc
        comparison = (
            f"champion {champion} scores {champion_auc:.4f} on this holdout; "
            f"challenger {margin:+.4f} (tolerance {gates.auc_tolerance:.4f})"
        )
        if margin < -gates.auc_tolerance:
            passed = False
            reasons.append("worse than the champion: " + comparison)
        else:
            reasons.append("not worse than the champion: " + comparison)
    elif champion is None:
        reasons.append("no champion yet")
    return PromotionDecision(passed, tuple(reasons), champion, champion_auc)


def promote(
    registry: Registry,
    pointer: dict[str, Any],
    challenger_auc: float,
    rescore: Callable[[str], float],
    gates: Gates,
) -> PromotionDecision:
    """Decide against the current champion and, if promoted, swap LATEST to ``pointer``.

    ``rescore(version)`` returns that champion's ROC-AUC on the challenger's holdout. If it
    raises IncomparableChampion, only the floor decides and the reason is recorded; any other
    error propagates (a transient one: the run is retried).
    """
    for _ in range(SWAP_ATTEMPTS):
        current: Pointer | None = registry.latest()
        champion = current.version if current else None
        champion_auc, note = None, None
        if champion is not None:
            try:
                champion_auc = rescore(champion)
            except IncomparableChampion as exc:
                note = f"champion {champion} could not be re-scored ({exc}); floor gate only"
        decision = judge(challenger_auc, champion, champion_auc, gates)
        if note:
            decision = PromotionDecision(
                decision.promoted, (*decision.reasons, note), champion, champion_auc
            )
        if not decision.promoted:
            return decision
        try:
            registry.swap_latest(pointer, expected=current)
        except PreconditionFailed:
            continue  # another run promoted meanwhile: judge again against it
        return decision
    raise RuntimeError(f"LATEST kept moving; gave up after {SWAP_ATTEMPTS} attempts")
