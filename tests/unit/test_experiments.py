"""Experiment definitions read from the long-form seed files."""

from datetime import date
from pathlib import Path

from common.experiments import ExperimentDefinition, assign_variant, seed_definitions

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def write_seeds(folder: Path, experiments: str, variants: str) -> Path:
    (folder / "initial_experiments.csv").write_text(experiments)
    (folder / "initial_experiment_variants.csv").write_text(variants)
    return folder


def test_definitions_keep_the_files_order_and_the_variant_index(tmp_path):
    seeds = write_seeds(
        tmp_path,
        "experiment_id,description,start_date,end_date,primary_metric\n"
        "zeta,last by name,2026-01-01,,conversion\n"
        "alpha,first by name,2026-02-01,2026-02-28,revenue_per_user\n",
        "experiment_id,variant_index,variant,weight\n"
        "alpha,2,treatment,0.4\n"
        "zeta,10,c,0.25\n"
        "zeta,2,b,0.25\n"
        "alpha,1,control,0.6\n"
        "zeta,1,control,0.5\n",
    )
    assert seed_definitions(seeds) == (
        ExperimentDefinition(
            "zeta", ("control", "b", "c"), (0.5, 0.25, 0.25), date(2026, 1, 1), None, "conversion"
        ),
        ExperimentDefinition(
            "alpha",
            ("control", "treatment"),
            (0.6, 0.4),
            date(2026, 2, 1),
            date(2026, 2, 28),
            "revenue_per_user",
        ),
    )


def test_a_definition_runs_in_its_window_and_assigns_by_the_shared_hash():
    three_arms = ExperimentDefinition(
        "e", ("a", "b", "c"), (0.2, 0.3, 0.5), date(2026, 3, 1), date(2026, 3, 31), "conversion"
    )
    assert [three_arms.runs_on(date(2026, 3, d)) for d in (1, 31)] == [True, True]
    assert not three_arms.runs_on(date(2026, 2, 28)) and not three_arms.runs_on(date(2026, 4, 1))
    open_ended = ExperimentDefinition("e", ("a", "b"), (0.5, 0.5), date(2026, 3, 1), None, "x")
    assert open_ended.runs_on(date(2030, 1, 1))
    for user_id in range(50):
        expected = assign_variant("e", user_id, ("a", "b", "c"), (0.2, 0.3, 0.5))
        assert three_arms.variant(user_id) == expected


def test_the_repository_seeds_define_the_generators_experiments():
    definitions = {d.experiment_id: d for d in seed_definitions(SEEDS)}
    assert list(definitions) == [
        "aa_homepage_hero",
        "checkout_one_click",
        "recs_carousel",
        "delivery_promise",
    ]
    for definition in definitions.values():
        assert definition.variants == ("control", "treatment")
        assert definition.weights == (0.5, 0.5)
    assert definitions["recs_carousel"].primary_metric == "revenue_per_user"
    assert definitions["recs_carousel"].end_date == date(2026, 10, 28)


def test_status_on_a_day_and_the_other_metrics():
    ended = ExperimentDefinition(
        "e", ("a", "b"), (0.5, 0.5), date(2026, 3, 1), date(2026, 3, 31), "revenue_per_user"
    )
    days = (date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1))
    assert [ended.status_on(d) for d in days] == ["planned", "running", "running", "finished"]
    open_ended = ExperimentDefinition("e", ("a", "b"), (0.5, 0.5), date(2026, 3, 1), None, "x")
    assert open_ended.status_on(date(2099, 1, 1)) == "running"
    assert ended.other_metrics == ("conversion",)
