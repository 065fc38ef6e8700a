"""What the conversion model reads, declared once.

Training selects these columns from the mart, the model card lists them with their definitions,
and prediction requests are validated against the card of the model that serves them (so a
served model keeps the features it was trained with while this list evolves).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from common.traffic_sources import EVENT_TRAFFIC_SOURCES

Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class Feature:
    name: str
    kind: Kind
    definition: str
    nullable: bool = False  # numeric only: null means "not applicable" (e.g. no order yet)
    # numeric only: the values the definition allows; the pipeline's validation checks the mart
    minimum: float | None = None
    maximum: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Feature:
        return cls(
            raw["name"],
            raw["kind"],
            raw["definition"],
            bool(raw.get("nullable")),
            raw.get("minimum"),
            raw.get("maximum"),
        )


@dataclass(frozen=True)
class FeatureSpec:
    model: str  # artifacts live under models/<model>/
    table: str  # the mart, unqualified
    features: tuple[Feature, ...]
    label: str
    label_definition: str
    # Snapshot date column: the latest dates are held out. None: a stratified random holdout.
    time_column: str | None
    # Rows sharing this column (a user's weekly snapshots) stay in one cross-validation fold.
    group_column: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)


_BEFORE = "before the snapshot day"
_SHARE = "share of the user's signed-in sessions in the 90 days " + _BEFORE + " that came from {}"

CONVERSION = FeatureSpec(
    model="conversion",
    table="features_conversion",
    features=(
        Feature("age", "numeric", "age of the user in years (users.age)", minimum=0, maximum=120),
        Feature("gender", "categorical", "users.gender (F or M)"),
        Feature("country", "categorical", "users.country"),
        Feature(
            "acquisition_channel",
            "categorical",
            "users.traffic_source: the channel that brought the user to sign up",
        ),
        Feature("days_since_signup", "numeric", "days from signup to the snapshot day", minimum=0),
        Feature("frequency", "numeric", "orders placed " + _BEFORE, minimum=0),
        Feature(
            "monetary",
            "numeric",
            "revenue of those orders as known the day before the snapshot (an item returned "
            "by then counts as zero)",
            minimum=0,
        ),
        Feature(
            "recency_days",
            "numeric",
            "days since the last order " + _BEFORE + "; null when there is none",
            nullable=True,
            minimum=0,
        ),
        Feature(
            "sessions_90d", "numeric", "signed-in sessions in the 90 days " + _BEFORE, minimum=0
        ),
        Feature(
            "sessions_30d", "numeric", "signed-in sessions in the 30 days " + _BEFORE, minimum=0
        ),
        Feature("product_views_30d", "numeric", "product pages viewed in those 30 days", minimum=0),
        Feature(
            "cart_adds_30d", "numeric", "products added to the cart in those 30 days", minimum=0
        ),
        *(
            Feature(
                f"traffic_share_{source.lower()}",
                "numeric",
                _SHARE.format(source),
                minimum=0,
                maximum=1,
            )
            for source in EVENT_TRAFFIC_SOURCES
        ),
    ),
    label="label_purchased",
    label_definition="1 if the user placed an order within 14 days from the snapshot day",
    time_column="snapshot_date",
    group_column="user_id",
)
