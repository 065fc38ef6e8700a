"""SHIP / DO NOT SHIP / INCONCLUSIVE: each rule, its precedence, and the generated summary."""

import pytest

from common.stats.analyze import analyze
from common.stats.decision import guardrail_verdict
from common.stats.inputs import Experiment, Metric, Moments, Options, Variant

CONVERSION = Metric("conversion", "proportion", "primary")


def run(arms, metrics=(CONVERSION,), **options):
    variants = tuple(Variant(name, stats, units) for name, stats, units in arms)
    return analyze(Experiment(variants, metrics, Options(**options)))


def conversion(n, successes, units=None):
    return {"conversion": Moments(n, successes)}, units


def two_arms(control, treatment, **options):
    (c, cu), (t, tu) = control, treatment
    return run([("control", c, cu), ("treatment", t, tu)], **options)


def codes(decision):
    return [r.code for r in decision.reasons]


def test_significant_improvement_ships_with_a_summary_built_from_the_numbers():
    analysis = two_arms(conversion(10000, 1000), conversion(10000, 1150))
    decision = analysis.decision
    assert (decision.verdict, decision.variant, codes(decision)) == (
        "SHIP",
        "treatment",
        ["significant_win"],
    )
    assert decision.summary.startswith("Ship treatment.")
    for text in ("10.00%", "11.50%", "+15.00%", "95% CI +5.79% to +24.21%", "SRM p = 1.000"):
        assert text in decision.summary


def test_srm_failure_blocks_even_a_significant_win():
    analysis = two_arms(conversion(10000, 1000, 10000), conversion(9000, 1100, 9000))
    assert not analysis.srm.passed
    assert analysis.decision.verdict == "DO NOT SHIP"
    assert codes(analysis.decision)[:2] == ["srm_failed", "significant_win"]
    assert "assignment or logging is broken" in analysis.decision.summary


def test_significant_harm_is_do_not_ship():
    analysis = two_arms(conversion(10000, 1150), conversion(10000, 1000))
    assert (analysis.decision.verdict, codes(analysis.decision)) == (
        "DO NOT SHIP",
        ["significant_harm"],
    )
    assert "lowered conversion" in analysis.decision.summary


def test_a_harmed_guardrail_blocks_shipping_in_its_own_direction():
    latency = Metric("latency_ms", "mean", "guardrail", direction="decrease")
    arms = [
        ("control", {"conversion": Moments(10000, 1000), "latency_ms": Moments(1e4, 2e6, 4.1e8)}),
        (
            "treatment",
            {"conversion": Moments(10000, 1150), "latency_ms": Moments(1e4, 2.1e6, 4.5e8)},
        ),
    ]
    analysis = run([(n, s, None) for n, s in arms], metrics=(CONVERSION, latency))
    assert analysis.decision.verdict == "DO NOT SHIP"
    assert codes(analysis.decision) == ["guardrail_harmed", "significant_win"]
    # The same latency change on a metric where higher is better is no harm.
    faster = Metric("latency_ms", "mean", "guardrail", direction="increase")
    assert run([(n, s, None) for n, s in arms], metrics=(CONVERSION, faster)).decision.verdict == (
        "SHIP"
    )


def test_not_significant_is_inconclusive_and_flagged_underpowered_against_the_target():
    analysis = two_arms(conversion(2000, 200), conversion(2000, 210), mde=0.02)
    decision = analysis.decision
    assert decision.verdict == "INCONCLUSIVE"
    assert codes(decision) == ["ci_crosses_zero", "underpowered"]
    c = analysis.comparisons[0]
    assert c.underpowered and c.mde_relative > 0.02
    assert f"±{c.mde_relative:.2%}" in decision.summary
    assert (
        two_arms(conversion(2000, 200), conversion(2000, 210)).comparisons[0].underpowered is None
    )


def test_the_correction_decides_borderline_results():
    metrics = (CONVERSION, Metric("retention", "proportion"), Metric("signup", "proportion"))
    arm = lambda x: {m.name: Moments(10000, x) for m in metrics}  # noqa: E731
    arms = [("control", arm(1000), None), ("treatment", arm(1085), None)]
    raw = run(arms, metrics=metrics, correction="none", scale="absolute")
    corrected = run(arms, metrics=metrics, correction="bonferroni", scale="absolute")
    assert raw.comparisons[0].p_value < 0.05 < corrected.comparisons[0].p_value_adjusted
    assert corrected.comparisons[0].p_value_adjusted == min(1.0, 3 * raw.comparisons[0].p_value)
    assert (raw.decision.verdict, corrected.decision.verdict) == ("SHIP", "INCONCLUSIVE")
    assert "Bonferroni-adjusted 98.33% CI" in corrected.decision.summary
    assert corrected.comparisons[0].ci_level == pytest.approx(1 - 0.05 / 3)


def test_abn_ships_the_winner_with_the_largest_lift():
    analysis = run(
        [
            ("control", *conversion(10000, 1000)),
            ("b", *conversion(10000, 1150)),
            ("c", *conversion(10000, 1250)),
            ("d", *conversion(10000, 990)),
        ]
    )
    assert [d.verdict for d in analysis.decisions] == ["SHIP", "SHIP", "INCONCLUSIVE"]
    assert (analysis.decision.verdict, analysis.decision.variant) == ("SHIP", "c")
    assert "b also won" in analysis.decision.summary


def test_abn_with_only_losers_is_do_not_ship_and_mixed_is_inconclusive():
    losers = [("control", *conversion(10000, 1200)), ("b", *conversion(10000, 1000))]
    losers.append(("c", *conversion(10000, 1010)))
    assert run(losers).decision.verdict == "DO NOT SHIP"
    mixed = [*losers[:2], ("c", *conversion(10000, 1190))]
    assert run(mixed).decision.verdict == "INCONCLUSIVE"


def test_untestable_primary_is_inconclusive_with_the_reason():
    analysis = two_arms(conversion(0, 0, units=100), conversion(100, 10, units=100))
    assert analysis.decision.verdict == "INCONCLUSIVE"
    assert codes(analysis.decision) == ["untestable"]
    assert "no units" in analysis.decision.summary


def test_a_guardrail_margin_blocks_beyond_it_and_holds_back_a_win_that_may_cross_it():
    refunds = Metric("refunds", "proportion", "guardrail", direction="decrease", margin=0.02)

    def verdict(control_refunds, treatment_refunds, n=10000, scale="relative"):
        arms = [
            ("control", {"conversion": Moments(10000, 1000), "refunds": control_refunds}, None),
            ("treatment", {"conversion": Moments(10000, 1150), "refunds": treatment_refunds}, None),
        ]
        analysis = run(arms, metrics=(CONVERSION, refunds), scale=scale)
        return analysis.decision.verdict, codes(analysis.decision)

    # +30% refunds: the whole interval lies beyond +2%.
    assert verdict(Moments(10000, 1000), Moments(10000, 1300)) == (
        "DO NOT SHIP",
        ["guardrail_harmed", "significant_win"],
    )
    # No change, but the interval (about ±8%) still reaches past +2%: not shown non-inferior.
    for scale in ("relative", "absolute"):
        assert verdict(Moments(10000, 1000), Moments(10000, 1000), scale=scale) == (
            "INCONCLUSIVE",
            ["guardrail_not_noninferior", "significant_win"],
        )
    # -2% ± 0.6% stays below +2%: shown non-inferior, the win ships.
    assert verdict(Moments(1e6, 1e5), Moments(1e6, 9.8e4)) == ("SHIP", ["significant_win"])


@pytest.mark.parametrize(
    ("refunds", "margin", "expected", "reason"),
    [
        ((1000, 1300), 0.02, "beyond_margin", "guardrail_harmed"),
        ((1000, 1000), 0.02, "not_noninferior", "guardrail_not_noninferior"),
        ((1e5, 9.8e4), 0.02, "held", None),
        ((1000, 1300), None, "harmed", "guardrail_harmed"),
        ((1000, 900), None, "held", None),  # significantly better: no harm
    ],
)
def test_a_guardrails_verdict_is_the_reason_the_decision_gives(refunds, margin, expected, reason):
    """guardrail_verdict, which the breakdown and the timeline report, names the same rule as
    the decision's reason for that guardrail."""
    n = 10000 if refunds[0] < 1e4 else 1e6
    guard = Metric("refunds", "proportion", "guardrail", direction="decrease", margin=margin)
    arms = [
        ("control", {"conversion": Moments(10000, 1000), "refunds": Moments(n, refunds[0])}, None),
        (
            "treatment",
            {"conversion": Moments(10000, 1150), "refunds": Moments(n, refunds[1])},
            None,
        ),
    ]
    analysis = run(arms, metrics=(CONVERSION, guard))
    primary, refund = analysis.comparisons
    assert (guardrail_verdict(primary), guardrail_verdict(refund)) == (None, expected)
    reasons = [r.code for r in analysis.decision.reasons if r.metric == "refunds"]
    assert reasons == ([reason] if reason else [])
