"""The decision's summary and reasons in English and German: every reason kind and verdict has
both texts, the German ones read as German with the very numbers of the English ones (spelled
1.234,56 and 13,66 %), and three golden German summaries. The numbers themselves are the
engine's, checked against statsmodels and scipy in test_decision, test_coherence and the
reference tests; here only their words and spelling are."""

import re
import string
import typing

import pytest

from common.stats.analyze import analyze
from common.stats.inputs import Experiment, Metric, Moments, Options, Variant
from common.stats.results import Reason, Verdict
from common.stats.wording import ENGLISH, GERMAN, WORDINGS, wording
from common.validation import InvalidInput

CODES = set(typing.get_args(typing.get_type_hints(Reason)["code"]))
VERDICTS = set(typing.get_args(Verdict))
CONVERSION = Metric("conversion", "proportion", "primary")
# A mean in the thousands (1,234.56 a unit) so that numbers are grouped.
REVENUE = Metric("revenue", "mean", "guardrail")
REFUNDS = Metric("refunds", "proportion", "guardrail", direction="decrease", margin=0.02)


def conversion(n, successes, units=None):
    return {"conversion": Moments(n, successes)}, units


def revenue_arm(n, successes, mean):
    # a variance of 100² a unit: Σv² = n(σ² + mean²)
    stats = {
        "conversion": Moments(n, successes),
        "revenue": Moments(n, n * mean, n * (1e4 + mean**2)),
    }
    return stats, None


def refunds_arm(refunds):
    return {"conversion": Moments(10000, 1000), "refunds": refunds}, None


def refunds_treatment(refunds):
    return {"conversion": Moments(10000, 1150), "refunds": refunds}, None


SCENARIOS = {
    "ship": ([("control", *conversion(10000, 1000)), ("treatment", *conversion(10000, 1150))], {}),
    "srm failed": (
        [
            ("control", *conversion(10000, 1000, 10000)),
            ("treatment", *conversion(9000, 1100, 9000)),
        ],
        {},
    ),
    "inconclusive, underpowered": (
        [("control", *conversion(2000, 200)), ("treatment", *conversion(2000, 210))],
        {"mde": 0.02},
    ),
    "harm, absolute": (
        [("control", *conversion(10000, 1150)), ("treatment", *conversion(10000, 1000))],
        {"scale": "absolute"},
    ),
    "harmed guardrail in money": (
        [
            ("control", *revenue_arm(10000, 1000, 1234.56)),
            ("treatment", *revenue_arm(10000, 1150, 1200.0)),
        ],
        {"metrics": (CONVERSION, REVENUE)},
    ),
    "guardrail beyond its margin": (
        [
            ("control", *refunds_arm(Moments(10000, 1000))),
            ("treatment", *refunds_treatment(Moments(10000, 1300))),
        ],
        {"metrics": (CONVERSION, REFUNDS)},
    ),
    "guardrail not shown within its margin": (
        [
            ("control", *refunds_arm(Moments(10000, 1000))),
            ("treatment", *refunds_treatment(Moments(10000, 1000))),
        ],
        {"metrics": (CONVERSION, REFUNDS)},
    ),
    "untestable": (
        [("control", *conversion(0, 0, 100)), ("treatment", *conversion(100, 10, 100))],
        {},
    ),
    "two winners, Holm": (
        [
            ("control", *conversion(10000, 1000)),
            ("b", *conversion(10000, 1150)),
            ("c", *conversion(10000, 1250)),
            ("d", *conversion(10000, 990)),
        ],
        {"correction": "holm"},
    ),
    "only losers": (
        [
            ("control", *conversion(10000, 1200)),
            ("b", *conversion(10000, 1000)),
            ("c", *conversion(10000, 1010)),
        ],
        {},
    ),
}


def run(scenario, words):
    arms, options = SCENARIOS[scenario]
    options = dict(options)
    metrics = options.pop("metrics", (CONVERSION,))
    variants = tuple(Variant(name, stats, units) for name, stats, units in arms)
    return analyze(Experiment(variants, metrics, Options(**options)), words)


ENGLISH_NUMBER = re.compile(r"[-+]?\d{1,3}(?:,\d{3})*(?:\.\d+)?(?:e[-+]\d+)?")
GERMAN_NUMBER = re.compile(r"[-+]?\d{1,3}(?:\.\d{3})*(?:,\d+)?(?:e[-+]\d+)?")


def numbers(text, pattern, group, decimal):
    return [float(n.replace(group, "").replace(decimal, ".")) for n in pattern.findall(text)]


def texts(decision):
    return [decision.summary, *(r.message for r in decision.reasons)]


def test_every_reason_and_verdict_has_an_english_and_a_german_text():
    """A new reason code or verdict fails here until both languages word it, with the same
    placeholders (German may leave out an English-only one: the engine's English notes)."""
    for words in WORDINGS.values():
        assert set(words.reasons) == CODES, words.tag
        assert set(words.leads) == VERDICTS, words.tag
    assert set(GERMAN.phrases) == set(ENGLISH.phrases)

    def fields(template):
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    for english, german in ((ENGLISH.reasons, GERMAN.reasons), (ENGLISH.leads, GERMAN.leads)):
        for key in english:
            assert fields(german[key]) <= fields(english[key]), key
    for key in ENGLISH.phrases:
        assert fields(GERMAN.phrases[key]) == fields(ENGLISH.phrases[key]), key


def test_the_scenarios_cover_every_reason_and_verdict():
    decisions = [
        d for s in SCENARIOS for d in (*run(s, ENGLISH).decisions, run(s, ENGLISH).decision)
    ]
    assert {r.code for d in decisions for r in d.reasons} == CODES
    assert {d.verdict for d in decisions} == VERDICTS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_german_says_what_english_says_with_the_same_numbers(scenario):
    english, german = run(scenario, ENGLISH), run(scenario, GERMAN)
    assert english.comparisons == german.comparisons  # the words change, never the statistics
    for en, de in zip(
        (*english.decisions, english.decision), (*german.decisions, german.decision), strict=True
    ):
        assert (de.verdict, de.variant) == (en.verdict, en.variant)
        assert [(r.code, r.variant, r.metric) for r in de.reasons] == [
            (r.code, r.variant, r.metric) for r in en.reasons
        ]
        for en_text, de_text in zip(texts(en), texts(de), strict=True):
            assert de_text != en_text
            assert not re.search(
                r"\b(the|to|of|and|significant|interval|raised|lowered|CI)\b", de_text
            ), de_text
            assert numbers(de_text, GERMAN_NUMBER, ".", ",") == numbers(
                en_text, ENGLISH_NUMBER, ",", "."
            ), (
                en_text,
                de_text,
            )
            assert re.search(r"\d%", de_text) is None, "German puts a no-break space before %"


def test_german_groups_thousands_with_a_dot_and_marks_decimals_with_a_comma():
    decision = run("harmed guardrail in money", GERMAN).decisions[0]
    harmed = next(r.message for r in decision.reasons if r.code == "guardrail_harmed")
    assert "von 1.235 auf 1.200" in harmed  # English: from 1,235 to 1,200 (4 significant digits)
    absolute = run("harm, absolute", GERMAN).decision.reasons[0].message
    assert "-1,50 Pp." in absolute  # 10.00% - 11.50% on the absolute scale: -1.50 pp


NBSP = "\u00a0"
GOLDEN = {
    "ship": (
        f"treatment ausrollen. treatment hat conversion von 10,00{NBSP}% auf 11,50{NBSP}% erhöht "
        f"(+15,00{NBSP}%, KI (95{NBSP}%) +5,79{NBSP}% bis +24,21{NBSP}%, p = 0,001): eine "
        "signifikante Verbesserung. Die Aufteilung des Traffics entspricht dem Plan "
        "(SRM p = 1,000)."
    ),
    "srm failed": (
        "treatment nicht ausrollen. Die Aufteilung des Traffics entspricht nicht den geplanten "
        "Gewichten (SRM p = 4e-13, unter 0,001): Zuteilung oder Protokollierung ist fehlerhaft, "
        "daher ist keiner Metrik zu trauen, bis das behoben ist. treatment hat conversion von "
        f"10,00{NBSP}% auf 12,22{NBSP}% erhöht (+22,22{NBSP}%, KI (95{NBSP}%) +12,35{NBSP}% bis "
        f"+32,09{NBSP}%, p < 0,001): eine signifikante Verbesserung."
    ),
    "inconclusive, underpowered": (
        "Nicht eindeutig: Noch keine Behandlung hat einen signifikanten Effekt gezeigt. "
        f"treatment hat conversion von 10,00{NBSP}% auf 10,50{NBSP}% erhöht (+5,00{NBSP}%, "
        f"KI (95{NBSP}%) -14,26{NBSP}% bis +24,26{NBSP}%, p = 0,611); das Intervall schließt "
        "„keine Veränderung“ ein, daher ist das nicht signifikant. Bei dieser Größe erkennt der "
        f"Test Effekte von etwa ±26,87{NBSP}% mit 80{NBSP}% Teststärke, mehr als die angestrebten "
        f"2,00{NBSP}%: Der Test ist zu schwach. Die Aufteilung des Traffics entspricht dem Plan "
        "(SRM p = 1,000)."
    ),
}


@pytest.mark.parametrize("scenario", GOLDEN)
def test_golden_german_summaries(scenario):
    """Written by hand from the English summaries test_decision checks (10.00% → 11.50%,
    +15.00%, 95% CI +5.79% to +24.21%), in German: decimal comma, no-break space before %."""
    assert run(scenario, GERMAN).decision.summary == GOLDEN[scenario]


def test_english_stays_the_default_and_an_unknown_locale_is_named():
    assert run("ship", ENGLISH).decision.summary.startswith("Ship treatment.")
    assert wording("de-DE") is GERMAN and wording("en-US") is ENGLISH
    for bad in ("fr-FR", "de", None, 3):
        with pytest.raises(InvalidInput) as error:
            wording(bad)
        assert error.value.field == "locale"
