"""POST /ml/effects: the request's rules and the answer.

{experiment_id, target: conversion | revenue_per_user, features: [browser | traffic_source |
country | returning, ...]} → the A/B engine's unadjusted difference, the covariate-adjusted
average effect (adjusted for the pre-period values and the chosen features) and, when features
are chosen, the effect per segment with the exploratory warning.

Bounds: at most ``MAX_USERS`` exposed users are read (beyond: 422); the segment search fits
at most 2 x ``segments.MAX_FIT_USERS_PER_ARM`` rows with ``segments.TREES`` trees per arm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common import validation
from common.ml.effects import adjusted, segments
from common.ml.effects.design import design
from common.ml.effects.unadjusted import unadjusted_effect
from common.ml.effects.users import FEATURES, ExperimentUsers, read_users
from common.stats.warehouse_source import experiment_definition
from common.warehouse import Warehouse

TARGETS = ("conversion", "revenue_per_user")
MAX_USERS = 700_000
ALPHA = 0.05
_FIELDS = ("experiment_id", "target", "features")


@dataclass(frozen=True)
class EffectsRequest:
    experiment_id: str
    target: str
    features: tuple[str, ...]


def effects_request(body: Mapping[str, Any]) -> EffectsRequest:
    body = validation.known_fields(body, "", _FIELDS)
    if "experiment_id" not in body:
        raise validation.InvalidInput("experiment_id", "is required")
    experiment_id = validation.identifier(body["experiment_id"], "experiment_id")
    target = validation.choice(body.get("target", "conversion"), "target", TARGETS)
    features = body.get("features", [])
    if not isinstance(features, list):
        raise validation.InvalidInput("features", f"must be a list of {', '.join(FEATURES)}")
    for i, feature in enumerate(features):
        validation.choice(feature, f"features[{i}]", FEATURES)
        if feature in features[:i]:
            raise validation.InvalidInput(f"features[{i}]", "must not repeat a feature")
    return EffectsRequest(experiment_id, target, tuple(features))


def estimate(users: ExperimentUsers, wanted: EffectsRequest) -> dict[str, Any]:
    """Every model on users already read (the warehouse-free core)."""
    y = users.outcome(wanted.target)
    fitted = (
        adjusted.conversion_effect if wanted.target == "conversion" else adjusted.revenue_effect
    )
    regressors = design(users, wanted.features)
    answer = {
        "experiment_id": wanted.experiment_id,
        "target": wanted.target,
        "features": list(wanted.features),
        "users": {"control": int((~users.treated).sum()), "treatment": int(users.treated.sum())},
        "alpha": ALPHA,
        "unadjusted": unadjusted_effect(wanted.target, users.treated, y, ALPHA),
        "adjusted": {
            **fitted(regressors, y, ALPHA),
            "covariates": list(regressors.names[2:]),
        },
    }
    if wanted.features:
        answer["heterogeneity"] = segments.segment_effects(
            users, wanted.features, wanted.target, ALPHA
        )
    return answer


def experiment_effects(warehouse: Warehouse, marts: str, wanted: EffectsRequest) -> dict[str, Any]:
    definition = experiment_definition(warehouse, marts, wanted.experiment_id)  # 404 if unknown
    users = read_users(warehouse, definition, MAX_USERS)
    return {
        "control": definition.variants[0],
        "treatment": definition.variants[1],
        **estimate(users, wanted),
    }
