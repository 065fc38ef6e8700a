"""Experiment definitions as data: the rules of a definition, what a change may touch, and the
versioned store (create-only versions, compare-and-swap on CURRENT)."""

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from common.artifacts.local import LocalArtifactStore
from common.definitions.changes import ChangeRefused
from common.definitions.initial import initial_specs
from common.definitions.spec import Guardrail, parse_definition
from common.definitions.staging import publish
from common.definitions.store import (
    INITIAL_AUTHOR,
    DefinitionConflict,
    DefinitionNotFound,
    DefinitionStore,
)
from common.experiments import seed_definitions
from common.validation import InvalidInput
from common.warehouse.duckdb_engine import DuckDBWarehouse

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 20)


def body(**changes):
    return {
        "experiment_id": "free_shipping_banner",
        "hypothesis": "A free-shipping banner raises conversion",
        "variants": [{"name": "control", "weight": 0.5}, {"name": "banner", "weight": 0.5}],
        "start_date": "2026-12-01",
        "end_date": "2026-12-28",
        "primary_metric": "conversion",
        **changes,
    }


@pytest.fixture
def store(tmp_path):
    return DefinitionStore(LocalArtifactStore(tmp_path))


def test_a_minimal_definition_gets_every_other_metric_and_dimension():
    spec = parse_definition(body())
    assert spec.variants == ("control", "banner") and spec.weights == (0.5, 0.5)
    assert spec.secondary_metrics == ("revenue_per_user",)
    assert spec.guardrails == ()
    assert spec.dimensions == ("browser", "traffic_source", "country")
    assert parse_definition(spec.as_json()) == spec  # stored versions read back equal


def test_a_guardrail_takes_its_metric_out_of_the_secondary_ones():
    guardrail = {"metric": "revenue_per_user", "direction": "increase", "margin": 0.02}
    spec = parse_definition(body(guardrails=[guardrail], dimensions=["country"]))
    assert spec.guardrails == (Guardrail("revenue_per_user", "increase", 0.02),)
    assert spec.secondary_metrics == ()
    assert spec.dimensions == ("country",)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"experiment_id": "no spaces"}, "experiment_id"),
        ({"experiment_id": "../etc"}, "experiment_id"),
        ({"hypothesis": ""}, "hypothesis"),
        ({"variants": [{"name": "control", "weight": 1}]}, "variants"),
        ({"variants": [{"name": "a", "weight": 0.5}, {"name": "a", "weight": 0.5}]}, "variants"),
        ({"variants": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.6}]}, "variants"),
        (
            {"variants": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": "0.5"}]},
            "variants[1].weight",
        ),
        ({"variants": [{"name": "a", "weight": 0.5}, {"name": "b", "w": 0.5}]}, "variants[1].w"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"end_date": "2026-11-30"}, "end_date"),
        ({"primary_metric": "clicks"}, "primary_metric"),
        ({"secondary_metrics": ["conversion"]}, "secondary_metrics[0]"),
        ({"secondary_metrics": "revenue_per_user"}, "secondary_metrics"),
        (
            {
                "secondary_metrics": ["revenue_per_user"],
                "guardrails": [{"metric": "revenue_per_user"}],
            },
            "guardrails[0].metric",
        ),
        (
            {"secondary_metrics": [], "guardrails": [{"metric": "conversion"}]},
            "guardrails[0].metric",
        ),
        (
            {"secondary_metrics": [], "guardrails": [{"metric": "revenue_per_user", "margin": 0}]},
            "guardrails[0].margin",
        ),
        (
            {
                "secondary_metrics": [],
                "guardrails": [{"metric": "revenue_per_user", "direction": "up"}],
            },
            "guardrails[0].direction",
        ),
        ({"dimensions": ["country", "country"]}, "dimensions"),
        ({"dimensions": ["city"]}, "dimensions[0]"),
        ({"owner": "me"}, "owner"),
    ],
)
def test_a_bad_definition_names_its_field(changes, field):
    with pytest.raises(InvalidInput) as raised:
        parse_definition(body(**changes))
    assert raised.value.field == field


@pytest.mark.parametrize("missing", ["experiment_id", "hypothesis", "variants", "start_date"])
def test_a_missing_field_is_named(missing):
    data = body()
    del data[missing]
    with pytest.raises(InvalidInput) as raised:
        parse_definition(data)
    assert raised.value.field == missing


def test_create_read_change_and_keep_every_version(store):
    created = store.create(parse_definition(body()), "alice", AT)
    assert created.version == 1 and created.previous is None
    assert store.current("free_shipping_banner") == created

    later = datetime(2026, 11, 21, tzinfo=UTC)
    changed = store.change(
        "free_shipping_banner",
        {"variants": [{"name": "control", "weight": 0.4}, {"name": "banner", "weight": 0.6}]},
        "bob",
        later,
        TODAY,
    )
    assert changed.version == 2 and changed.changes == ("variants",)
    assert changed.changed_by == "bob" and changed.changed_at == later
    assert changed.definition.weights == (0.4, 0.6)
    assert store.versions("free_shipping_banner") == (changed, created)
    assert store.all() == (changed,)

    same = store.change("free_shipping_banner", {"end_date": "2026-12-28"}, "carol", later, TODAY)
    assert same == changed  # nothing changed: no new version


def test_an_existing_id_cannot_be_created_again(store):
    store.create(parse_definition(body()), "alice", AT)
    with pytest.raises(DefinitionConflict):
        store.create(parse_definition(body(hypothesis="another")), "bob", AT)
    assert store.current("free_shipping_banner").definition.hypothesis != "another"


def test_concurrent_creates_of_one_id_one_wins(store):
    barrier = threading.Barrier(8)
    outcomes = []

    def create(i):
        spec = parse_definition(body(hypothesis=f"writer {i}"))
        barrier.wait()
        try:
            store.create(spec, f"writer-{i}", AT)
            outcomes.append(("won", i))
        except DefinitionConflict:
            outcomes.append(("lost", i))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for outcome, i in outcomes if outcome == "won"]
    assert len(winners) == 1 and len(outcomes) == 8
    (winner,) = winners
    assert store.current("free_shipping_banner").definition.hypothesis == f"writer {winner}"
    assert len(store.versions("free_shipping_banner")) == 1


def test_a_change_based_on_a_moved_pointer_loses(store, monkeypatch):
    """Two writers read version 1; the second to swap CURRENT hears 409."""
    store.create(parse_definition(body()), "alice", AT)
    read_first = store._pointer("free_shipping_banner")
    store.change("free_shipping_banner", {"hypothesis": "first"}, "bob", AT, TODAY)
    monkeypatch.setattr(store, "_pointer", lambda _id: read_first)
    with pytest.raises(DefinitionConflict):
        store.change("free_shipping_banner", {"hypothesis": "second"}, "carol", AT, TODAY)
    monkeypatch.undo()
    assert store.current("free_shipping_banner").definition.hypothesis == "first"
    assert [v.version for v in store.versions("free_shipping_banner")] == [2, 1]


def test_an_unknown_experiment_is_not_found(store):
    with pytest.raises(DefinitionNotFound):
        store.change("nope", {"hypothesis": "x"}, "bob", AT, TODAY)
    with pytest.raises(DefinitionNotFound):
        store.versions("nope")
    assert store.current("nope") is None and store.all() == ()


# --- what a change may touch -------------------------------------------------------------------

RUNNING_DAY, FINISHED_DAY = date(2026, 12, 10), date(2026, 12, 29)
NEW_WEIGHTS = [{"name": "control", "weight": 0.4}, {"name": "banner", "weight": 0.6}]


@pytest.mark.parametrize(
    ("today", "changes", "field"),
    [
        (TODAY, {"experiment_id": "renamed"}, "experiment_id"),
        (TODAY, {"start_date": "2026-11-19"}, "start_date"),  # planned: not into the past
        (RUNNING_DAY, {"variants": NEW_WEIGHTS}, "variants"),
        (RUNNING_DAY, {"start_date": "2026-12-02"}, "start_date"),
        (RUNNING_DAY, {"primary_metric": "revenue_per_user"}, "primary_metric"),
        (RUNNING_DAY, {"hypothesis": "rewritten"}, "hypothesis"),
        (RUNNING_DAY, {"end_date": "2026-12-09"}, "end_date"),  # ending before today
        (FINISHED_DAY, {"end_date": "2027-01-10"}, "end_date"),
        (FINISHED_DAY, {"variants": NEW_WEIGHTS}, "variants"),
    ],
)
def test_refused_changes_are_409_naming_the_field(store, today, changes, field):
    store.create(parse_definition(body()), "alice", AT)
    with pytest.raises(ChangeRefused) as raised:
        store.change("free_shipping_banner", changes, "bob", AT, today)
    assert raised.value.field == field
    assert store.current("free_shipping_banner").version == 1


PLANNED_CHANGE = {
    "variants": NEW_WEIGHTS,
    "start_date": "2026-11-20",
    "primary_metric": "revenue_per_user",
}


@pytest.mark.parametrize(
    ("today", "changes", "fields"),
    [
        # a new primary metric makes the former one secondary
        (TODAY, PLANNED_CHANGE, {*PLANNED_CHANGE, "secondary_metrics"}),
        (RUNNING_DAY, {"end_date": "2026-12-10"}, {"end_date"}),  # stop it today
        (RUNNING_DAY, {"end_date": None}, {"end_date"}),  # run until an end is set
        (RUNNING_DAY, {"end_date": "2027-01-15"}, {"end_date"}),
    ],
)
def test_allowed_changes_make_a_new_version(store, today, changes, fields):
    store.create(parse_definition(body()), "alice", AT)
    changed = store.change("free_shipping_banner", changes, "bob", AT, today)
    assert changed.version == 2
    assert set(changed.changes) == fields


def test_a_change_breaking_a_rule_of_the_definition_is_400(store):
    store.create(parse_definition(body()), "alice", AT)
    with pytest.raises(InvalidInput) as raised:
        store.change("free_shipping_banner", {"end_date": "2026-11-30"}, "bob", AT, TODAY)
    assert raised.value.field == "end_date"


# --- the initial content ------------------------------------------------------------------------


def test_the_seed_files_are_imported_once_and_never_over_a_person(store):
    store.create(parse_definition(body(experiment_id="recs_carousel")), "alice", AT)
    assert store.import_initial(initial_specs(SEEDS), AT) == 3
    assert store.import_initial(initial_specs(SEEDS), AT) == 0
    by_id = {v.definition.experiment_id: v for v in store.all()}
    assert by_id["recs_carousel"].changed_by == "alice"
    seeds = {d.experiment_id: d for d in seed_definitions(SEEDS)}
    assert set(by_id) == set(seeds)
    for experiment_id in ("aa_homepage_hero", "checkout_one_click", "delivery_promise"):
        assert by_id[experiment_id].changed_by == INITIAL_AUTHOR
        assert by_id[experiment_id].definition.experiment == seeds[experiment_id]


# --- the copy dbt reads ---------------------------------------------------------------------------


def test_the_staging_copy_holds_request_text_as_data_and_is_replaced_whole(store, tmp_path):
    hostile = "x'); drop table execkpi_staging.experiment_definitions; --"
    store.create(parse_definition(body(hypothesis=hostile, end_date=None)), "alice", AT)
    store.create(parse_definition(body(experiment_id="other")), "alice", AT)
    warehouse = DuckDBWarehouse(str(tmp_path / "w.duckdb"), read_only=False)
    publish(warehouse, store.all())
    publish(warehouse, store.all()[:1])  # the next build's copy replaces the previous one
    experiments = warehouse.query(
        "select experiment_id, hypothesis, start_date, end_date, primary_metric, "
        "definition_version from execkpi_staging.experiment_definitions"
    ).table.to_pylist()
    variants = warehouse.query(
        "select * from execkpi_staging.experiment_definition_variants order by variant_index"
    ).table.to_pylist()
    warehouse.close()
    assert experiments == [
        {
            "experiment_id": "free_shipping_banner",
            "hypothesis": hostile,
            "start_date": date(2026, 12, 1),
            "end_date": None,
            "primary_metric": "conversion",
            "definition_version": 1,
        }
    ]
    assert [(v["variant_index"], v["variant"], v["weight"]) for v in variants] == [
        (1, "control", 0.5),
        (2, "banner", 0.5),
    ]
