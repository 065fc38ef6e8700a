"""The A/B tests of the dbt seeds (``dbt_project/seeds/initial_experiments.csv`` and
``initial_experiment_variants.csv``), simulated with a known truth.

A user is *exposed* to an experiment when they have at least one (logged) signed-in session
whose start date lies in [start_date, end_date] (UTC); sessions never cross midnight. Their
variant is ``common.experiments.assign_variant`` — the function the warehouse reproduces in SQL,
so simulation and analysis agree. The planted truth (``PLANTED_EFFECTS``), applied to the
sessions of the treatment arm inside the window:

- ``aa_homepage_hero``: no effect at all (an A/A test).
- ``checkout_one_click``: each session reaches purchase with 1.25 times the probability, and
  those orders have ~10% more items (so ~10% more revenue).
- ``delivery_promise``: an effect in one segment only: treatment sessions of users in China
  reach purchase with 1.6 times the probability; everyone else sees no effect. Its draws come
  from a stream of their own (``SEGMENT_STREAM``), so the other experiments' effects draw the
  same numbers as without it; its window (July) lies before the others' pre-periods. Extra
  orders still shift the chunk's later draws (products, event times) as any purchase does.
- ``recs_carousel``: no effect, but a logging bug: for 12% of treatment users (so 12% of the
  arm's in-window sessions) no in-window session is logged, except those that buy (checkout
  logs its own events, so every order keeps its purchase event). Those users look unexposed
  unless they bought: the exposed treatment count is ~8% short (a sample-ratio mismatch), and
  the surviving treatment users look better than they are.

Observed at 100k users (seed 42, default dates): ~8.1k exposed users per arm and experiment;
checkout conversion of exposed users 27.8% → 33.7% (1.21 times, z = 8.1); A/A 29.9% vs 29.9%;
recs_carousel exposed 8,603 control vs 7,838 treatment (chi-square 36, p ~ 2e-9).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.experiments import ExperimentDefinition, seed_definitions
from scripts.data.thelook.calibration import ITEMS_PER_ORDER, SIGNED_IN_PURCHASE_SHARE
from scripts.data.thelook.people import ANONYMOUS
from scripts.data.thelook.sessions import Sessions
from scripts.data.thelook.timeline import DAY, epoch_seconds

SEEDS = Path(__file__).resolve().parents[3] / "dbt_project/seeds"


@dataclass(frozen=True)
class PlantedEffect:
    arm: str = "treatment"  # the variant the effect applies to
    conversion_lift: float = 1.0  # relative probability that an in-window session buys
    items_lift: float = 1.0  # relative number of items of an in-window order
    # Share of the arm's users (a broken client) whose in-window sessions are not logged,
    # except those that buy: checkout logs its own events.
    unlogged_user_share: float = 0.0
    country: str | None = None  # the effect applies to the arm's users in this country only

    @property
    def is_null(self) -> bool:
        return self == PlantedEffect(arm=self.arm)

    def describe(self) -> str:
        parts = []
        if self.conversion_lift != 1.0:
            parts.append(f"{self.arm} sessions buy {self.conversion_lift:g}x")
        if self.items_lift != 1.0:
            parts.append(f"orders {self.items_lift:g}x items")
        if self.country:
            parts.append(f"only in {self.country}")
        if self.unlogged_user_share:
            parts.append(f"no effect, {self.unlogged_user_share:.0%} of {self.arm} users unlogged")
        return ", ".join(parts) or "no effect"


PLANTED_EFFECTS = {
    "aa_homepage_hero": PlantedEffect(),
    "checkout_one_click": PlantedEffect(conversion_lift=1.25, items_lift=1.10),
    "delivery_promise": PlantedEffect(conversion_lift=1.6, country="China"),
    "recs_carousel": PlantedEffect(unlogged_user_share=0.12),
}
# The stream of the segment effects' draws: SeedSequence([seed, chunk, SEGMENT_STREAM]).
SEGMENT_STREAM = 1


def load_experiments(seeds: Path = SEEDS) -> tuple[ExperimentDefinition, ...]:
    return seed_definitions(seeds)


def _in_window(experiment: ExperimentDefinition, day: np.ndarray) -> np.ndarray:
    """Mask of the days (since the epoch) inside the experiment's window."""
    first, last = (epoch_seconds(d) // DAY for d in (experiment.start_date, experiment.end_date))
    return (day >= first) & (day <= last)


def _extra_item_probability(items_lift: float) -> float:
    """Chance of one more item (up to the maximum) that lifts mean items by ``items_lift``."""
    mean = sum(n * share for n, share in ITEMS_PER_ORDER.items())
    below_max = 1 - ITEMS_PER_ORDER[max(ITEMS_PER_ORDER)]
    return (items_lift - 1) * mean / below_max


def _sessions_of(users: np.ndarray, sessions: Sessions, window: np.ndarray) -> np.ndarray:
    """Mask of the in-window sessions of the users marked in ``users`` (by chunk position)."""
    hit = window.copy()
    hit[window] = users[sessions.user[window]]
    return hit


def plant_effects(
    rng: np.random.Generator,
    sessions: Sessions,
    user_ids: np.ndarray,
    experiments: tuple[ExperimentDefinition, ...],
    *,
    countries: np.ndarray,
    segment_rng: np.random.Generator,
) -> Sessions:
    """Apply each experiment's planted effect to its treated sessions; drop unlogged ones.

    countries: each user's country (by chunk position); segment_rng: the draws of the effects
    limited to one country, apart from ``rng`` so that they leave the others' draws alone."""
    purchase, extra_item = sessions.purchase.copy(), sessions.extra_item.copy()
    logged = np.ones(len(sessions), dtype=bool)
    for experiment in experiments:
        effect = PLANTED_EFFECTS.get(experiment.experiment_id, PlantedEffect())
        if effect.is_null:
            continue
        draws = segment_rng if effect.country else rng
        window = (sessions.user != ANONYMOUS) & _in_window(experiment, sessions.day)
        exposed = np.unique(sessions.user[window])
        in_arm = [experiment.variant(int(user_ids[u])) == effect.arm for u in exposed]
        treated_user = np.zeros(user_ids.size, dtype=bool)
        treated_user[exposed[np.array(in_arm, dtype=bool)]] = True
        if effect.country:
            treated_user &= countries == effect.country
        treated = _sessions_of(treated_user, sessions, window)

        # Lift P(buy) from c to lift * c by turning some non-buying sessions into buying ones.
        c = SIGNED_IN_PURCHASE_SHARE
        convert = (effect.conversion_lift - 1) * c / (1 - c)
        purchase |= treated & (draws.random(len(sessions)) < convert)
        extra = _extra_item_probability(effect.items_lift)
        extra_item |= treated & (draws.random(len(sessions)) < extra)
        broken = treated_user & (draws.random(user_ids.size) < effect.unlogged_user_share)
        logged &= ~(_sessions_of(broken, sessions, window) & ~purchase)
    planted = Sessions(sessions.user, sessions.start, purchase, extra_item)
    return planted.where(logged)
