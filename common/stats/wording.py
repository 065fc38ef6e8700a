"""The words of an experiment's decision (its summary and each reason's message) in every
locale the downloads know (``common.locales``): en-US and de-DE.

A number's digits are decided once, by Python's format spec, for every locale (so a p-value
keeps the digits that hold it on its side of alpha in German too); a locale only spells them:
its decimal mark, grouping separator and percent sign from CLDR through Babel. en-US spells
them as Python does, so the English texts need no Babel and abtest's start never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from common.locales import LOCALES
from common.validation import choice


@dataclass(frozen=True)
class NumberSymbols:
    decimal: str
    group: str
    percent: str  # what follows the number: "%" in English, a no-break space and "%" in German


@cache
def _symbols(babel_locale: str) -> NumberSymbols:
    from babel import Locale
    from babel.numbers import get_decimal_symbol, get_group_symbol

    pattern = Locale.parse(babel_locale).percent_formats[None].pattern  # "#,##0 %"
    return NumberSymbols(
        get_decimal_symbol(babel_locale),
        get_group_symbol(babel_locale),
        pattern[pattern.rindex("0") + 1 :],
    )


@dataclass(frozen=True)
class Wording:
    tag: str  # BCP 47, as the request names it
    babel: str | None  # Babel's locale spelling numbers; None: Python's own spelling
    leads: Mapping[str, str]  # per verdict: the summary's first sentence
    reasons: Mapping[str, str]  # per reason code: its message
    phrases: Mapping[str, str]  # the parts and variants of those sentences

    def lead(self, verdict: str, **values: object) -> str:
        return self.leads[verdict].format(**values)

    def reason(self, code: str, **values: object) -> str:
        return self.reasons[code].format(**values)

    def text(self, key: str, **values: object) -> str:
        return self.phrases[key].format(**values)

    def spell(self, number: str) -> str:
        """A number as Python formats it (``-1,234.5``, ``13.66%``, ``2.1e-05``) in the
        locale's symbols (``-1.234,5``, ``13,66 %``, ``2,1e-05``)."""
        if self.babel is None:
            return number
        symbols = _symbols(self.babel)
        percent = number.endswith("%")
        digits = number.removesuffix("%").translate(
            str.maketrans({".": symbols.decimal, ",": symbols.group})
        )
        return digits + symbols.percent if percent else digits

    def number(self, x: float, spec: str) -> str:
        return self.spell(format(x, spec))


ENGLISH = Wording(
    "en-US",
    None,
    leads={
        "SHIP": "Ship {variant}.",
        "DO NOT SHIP": "Do not ship {variant}.",
        "INCONCLUSIVE": "Inconclusive: no treatment has shown a significant effect yet.",
    },
    reasons={
        "srm_failed": "The traffic split does not match the planned weights (SRM p = {p}, "
        "below {threshold}): assignment or logging is broken, so no metric can be trusted "
        "until it is fixed.",
        "significant_win": "{change}: a significant improvement.",
        "significant_harm": "{change}: a significant harm.",
        "guardrail_harmed": "The guardrail {metric} got significantly worse: {change}.",
        "guardrail_not_noninferior": "The guardrail {metric} is not shown within the {margin} "
        "non-inferiority margin; its interval still reaches past it: {change}.",
        "ci_crosses_zero": "{change}; the interval includes no change, so this is not significant.",
        "underpowered": "At this size the test detects lifts of about ±{detectable} with "
        "{power} power, more than the {mde} aimed for: it is underpowered.",
        "untestable": "{metric} could not be tested: {why}.",
    },
    phrases={
        "no_treatment": "Do not ship any treatment.",
        "inconclusive_guardrail": "Inconclusive: a guardrail is not yet shown to stay within "
        "its margin.",
        "srm_passed": "The traffic split matches the plan (SRM p = {p}).",
        "guardrail_beyond_margin": "The guardrail {metric} is worse than the {margin} "
        "non-inferiority margin: {change}.",
        "also_won": "{others} also won; {best} has the largest lift.",
        "undefined_test": "the test is undefined for these numbers",
        "raised": "{variant} raised {metric} from {control} to {treatment} ({evidence})",
        "lowered": "{variant} lowered {metric} from {control} to {treatment} ({evidence})",
        "unmoved": "{variant} did not move {metric} from {control} to {treatment} ({evidence})",
        "ci": "{level} CI",
        "repeated_ci": "{level} repeated CI",
        "always_valid_ci": "{level} always-valid CI",
        "adjusted_interval": "{correction}-adjusted {interval}",
        "adjusted_p": "{correction}-adjusted {p}",
        "interval": "{label} {lower} to {upper}",
        "interval_at_most": "{label} at most {upper}",
        "interval_at_least": "{label} at least {lower}",
        "interval_undefined": "{label} undefined",
        "percentage_points": " pp",
        "not_available": "n/a",
    },
)

GERMAN = Wording(
    "de-DE",
    LOCALES["de-DE"].babel,
    leads={
        "SHIP": "{variant} ausrollen.",
        "DO NOT SHIP": "{variant} nicht ausrollen.",
        "INCONCLUSIVE": "Nicht eindeutig: Noch keine Behandlung hat einen signifikanten Effekt "
        "gezeigt.",
    },
    reasons={
        "srm_failed": "Die Aufteilung des Traffics entspricht nicht den geplanten Gewichten "
        "(SRM p = {p}, unter {threshold}): Zuteilung oder Protokollierung ist fehlerhaft, daher "
        "ist keiner Metrik zu trauen, bis das behoben ist.",
        "significant_win": "{change}: eine signifikante Verbesserung.",
        "significant_harm": "{change}: eine signifikante Verschlechterung.",
        "guardrail_harmed": "Die Leitplanke {metric} hat sich signifikant verschlechtert: "
        "{change}.",
        "guardrail_not_noninferior": "Für die Leitplanke {metric} ist nicht gezeigt, dass sie "
        "innerhalb der Nicht-Unterlegenheitsmarge von {margin} bleibt; ihr Intervall reicht "
        "noch darüber hinaus: {change}.",
        "ci_crosses_zero": "{change}; das Intervall schließt „keine Veränderung“ ein, daher "
        "ist das nicht signifikant.",
        "underpowered": "Bei dieser Größe erkennt der Test Effekte von etwa ±{detectable} mit "
        "{power} Teststärke, mehr als die angestrebten {mde}: Der Test ist zu schwach.",
        # The engine's notes on why (its comparison's messages) are English: not quoted here.
        "untestable": "{metric} konnte nicht getestet werden: Der Test ist für diese Zahlen "
        "nicht definiert (die Hinweise des Vergleichs nennen den Grund).",
    },
    phrases={
        "no_treatment": "Keine Behandlung ausrollen.",
        "inconclusive_guardrail": "Nicht eindeutig: Für eine Leitplanke ist noch nicht "
        "gezeigt, dass sie innerhalb ihrer Marge bleibt.",
        "srm_passed": "Die Aufteilung des Traffics entspricht dem Plan (SRM p = {p}).",
        "guardrail_beyond_margin": "Die Leitplanke {metric} ist schlechter als die "
        "Nicht-Unterlegenheitsmarge von {margin}: {change}.",
        "also_won": "{others} ebenfalls signifikant besser; {best} hat den größten Effekt.",
        "undefined_test": "der Test ist für diese Zahlen nicht definiert",
        "raised": "{variant} hat {metric} von {control} auf {treatment} erhöht ({evidence})",
        "lowered": "{variant} hat {metric} von {control} auf {treatment} gesenkt ({evidence})",
        "unmoved": "{variant} hat {metric} nicht verändert, von {control} auf {treatment} "
        "({evidence})",
        "ci": "KI ({level})",
        "repeated_ci": "wiederholtes KI ({level})",
        "always_valid_ci": "stets gültiges KI ({level})",
        "adjusted_interval": "{correction}-korrigiertes {interval}",
        "adjusted_p": "{correction}-korrigiert {p}",
        "interval": "{label} {lower} bis {upper}",
        "interval_at_most": "{label} höchstens {upper}",
        "interval_at_least": "{label} mindestens {lower}",
        "interval_undefined": "{label} nicht definiert",
        "percentage_points": " Pp.",
        "not_available": "k. A.",
    },
)

WORDINGS = {wording.tag: wording for wording in (ENGLISH, GERMAN)}


def wording(tag: object) -> Wording:
    """The wording of a locale tag (400 naming ``locale`` for an unknown one)."""
    return WORDINGS[choice(tag, "locale", tuple(WORDINGS))]
