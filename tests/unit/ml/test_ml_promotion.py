"""Champion/challenger: the gates, the compare-and-swap of LATEST, and what failures leave."""

import shutil
import threading

import numpy as np
import pytest

from common import runs
from common.artifacts import PreconditionFailed
from common.artifacts.local import LocalArtifactStore
from common.ml.promotion import Gates, IncomparableChampion, judge, promote
from common.ml.registry import CARD, Registry
from common.ml.serving import ChampionCache
from common.ml.training_run import train_run
from tests.support.ml_synthetic import SETTINGS, SPEC, dataset

GATES = Gates(auc_floor=0.7, auc_tolerance=0.01)


def test_gates():
    assert judge(0.80, None, None, GATES).promoted
    assert not judge(0.69, None, None, GATES).promoted  # below the floor
    assert judge(0.795, "v1", 0.80, GATES).promoted  # within the tolerance
    worse = judge(0.785, "v1", 0.80, GATES)
    assert not worse.promoted and "worse than the champion" in worse.reasons[-1]
    assert not judge(0.69, "v1", 0.60, GATES).promoted  # better, but still below the floor


@pytest.fixture(scope="module")
def champion_store(tmp_path_factory):
    """A store holding one promoted champion, trained once for the module."""
    root = tmp_path_factory.mktemp("champion")
    registry = Registry(LocalArtifactStore(root), SPEC.model)
    outcome = train_run(registry, dataset, SPEC, SETTINGS, "champion", {})
    assert outcome["decision"] == "promoted"
    return root


@pytest.fixture
def registry(champion_store, tmp_path):
    shutil.copytree(champion_store, tmp_path / "store")
    return Registry(LocalArtifactStore(tmp_path / "store"), SPEC.model)


def test_compare_and_swap_has_one_winner(registry):
    base = registry.latest()
    barrier = threading.Barrier(8)
    winners, losers = [], []

    def contender(i: int) -> None:
        barrier.wait()
        try:
            registry.swap_latest({"version": f"v{i}"}, expected=base)
            winners.append(i)
        except PreconditionFailed:
            losers.append(i)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1 and len(losers) == 7
    assert registry.latest().version == f"v{winners[0]}"


def test_a_lost_race_is_judged_again_against_the_new_champion(registry):
    first = registry.latest()
    judged_against = []

    def rescore(champion: str) -> float:
        judged_against.append(champion)
        if len(judged_against) == 1:  # another run promotes while this one decides
            registry.swap_latest({"version": "rival"}, expected=first)
            return 0.80
        return 0.95  # the rival is much better on this holdout

    decision = promote(registry, {"version": "mine"}, 0.81, rescore, GATES)
    assert judged_against == [first.version, "rival"]
    assert not decision.promoted and decision.champion_before == "rival"
    assert registry.latest().version == "rival"


def test_an_incomparable_champion_leaves_the_floor_to_decide(registry):
    def rescore(champion: str) -> float:
        raise IncomparableChampion("it reads a feature that is gone")

    decision = promote(registry, {"version": "mine"}, 0.75, rescore, GATES)
    assert decision.promoted and "floor gate only" in decision.reasons[-1]
    assert registry.latest().version == "mine"


def test_a_failed_run_leaves_latest_untouched_and_can_be_retried(registry):
    before = registry.latest()

    def broken_load():
        raise ConnectionError("warehouse went away")

    with pytest.raises(ConnectionError):
        train_run(registry, broken_load, SPEC, SETTINGS, "run-1", {})
    assert registry.latest() == before
    (failed,) = [h for h in registry.history() if h["run_id"] == "run-1"]
    assert failed["decision"] == "failed" and "warehouse went away" in failed["reasons"][0]
    run = registry.store.get_json(runs.run_key("run-1", runs.TRAINING))
    assert run["status"] == "interrupted" and "warehouse went away" in run["error"]

    retried = train_run(registry, dataset, SPEC, SETTINGS, "run-1", {})  # the redelivery
    assert (retried["attempt"], retried["previous_attempt"]["status"]) == (2, "interrupted")
    assert retried["decision"] in ("promoted", "rejected") and "repeated" not in retried


def test_a_crash_mid_run_leaves_the_champion_loadable(registry, monkeypatch):
    before = registry.latest()
    real_put = registry.store.put

    def crash_on_shap(key, data, **kwargs):
        if key.endswith("shap_summary.json"):
            raise MemoryError("instance killed while writing artifacts")
        return real_put(key, data, **kwargs)

    monkeypatch.setattr(registry.store, "put", crash_on_shap)
    with pytest.raises(MemoryError):
        train_run(registry, dataset, SPEC, SETTINGS, "run-2", {})
    monkeypatch.undo()

    assert registry.latest() == before
    versions = {key.split("/")[2] for key in registry.store.list(f"models/{SPEC.model}/")}
    (partial,) = versions - {before.version, "LATEST", "history"}
    assert registry.store.exists(f"models/{SPEC.model}/{partial}/metrics.json")
    assert not registry.store.exists(f"models/{SPEC.model}/{partial}/{CARD}")

    champion = ChampionCache(lambda: registry, reload_seconds=0).get()
    assert champion.version == before.version
    d = dataset(users=20, snapshots=1, seed=9)
    answer = champion.predict(d.frame)
    probabilities = [p["probability"] for p in answer["predictions"]]
    assert len(probabilities) == 20 and all(0 < p < 1 for p in probabilities)


def test_a_worse_challenger_is_not_promoted(registry):
    before = registry.latest()

    def corrupted_history():
        # Labels shuffled in the training weeks only: the challenger learns noise, and both it
        # and the champion are judged on the intact latest week.
        d = dataset()
        training = d.time < d.time.max()
        label = d.label.copy()
        label[training] = np.random.default_rng(4).permutation(label[training])
        return type(d)(d.frame, label, d.time, d.groups, d.source)

    outcome = train_run(registry, corrupted_history, SPEC, SETTINGS, "run-3", {})
    assert outcome["decision"] == "rejected" and not outcome["promoted"]
    assert outcome["holdout_roc_auc"] < outcome["champion_auc_on_this_holdout"] - 0.02
    assert any("worse than the champion" in r for r in outcome["reasons"])
    assert registry.latest() == before
