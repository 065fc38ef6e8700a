"""The reports' languages: each label in English and German.

The locales are those of the downloads (``common.locales``), so ``locale=de-DE`` means the same
everywhere; a report in another language needs its labels here and its decision texts in
``common.stats.wording``, and a test checks that every language has every label."""

from __future__ import annotations

from dataclasses import dataclass

from common.locales import LOCALES
from common.stats.wording import WORDINGS, Wording
from common.validation import choice

LABELS: dict[str, dict[str, str]] = {
    "en-US": {
        "experiment_title": "Experiment report: {experiment}",
        "weekly_title": "Weekly executive report",
        "generated": "Generated {when} ({zone})",
        "period": "Period: {start} to {end}",
        "data_as_of": "Data as of {day}",
        "decision": "Decision",
        "reasons": "Reasons",
        "summary": "Summary",
        "intervals": "Effect per metric and variant (dot: estimate; line: interval)",
        "numbers": "Numbers",
        "srm": "Sample ratio check",
        "srm_ok": "No sample ratio mismatch ({p}).",
        "srm_failed": "Sample ratio mismatch ({p}): the assignment is broken, "
        "the results cannot be trusted.",
        "metric": "Metric",
        "variant": "Variant",
        "control_mean": "Control",
        "treatment_mean": "Treatment",
        "units": "Units",
        "lift": "Lift",
        "interval": "Interval",
        "level": "Level",
        "p_value": "p-value",
        "significant": "Significant",
        "yes": "yes",
        "no": "no",
        "relative": "relative",
        "absolute": "absolute",
        "SHIP": "Ship",
        "DO NOT SHIP": "Do not ship",
        "INCONCLUSIVE": "Inconclusive",
        "summary_comparison": "{variant} against {control} on {metric}: {lift} ({scale}), "
        "{level} interval {low} to {high}, {p}.",
        "summary_verdict": "Verdict: {verdict}.",
        "kpis": "KPIs of the week {start} to {end}",
        "kpi": "KPI",
        "this_week": "This week",
        "previous_week": "Previous week",
        "change": "Change",
        "revenue": "Revenue",
        "orders": "Orders",
        "aov": "Average order value",
        "customers": "Customers",
        "conversion": "Session conversion",
        "no_week": "No complete week in the data yet.",
        "experiments": "Experiments",
        "experiment": "Experiment",
        "status": "Status",
        "planned": "planned",
        "running": "running",
        "finished": "finished",
        "not_analysed": "no data yet",
        "model": "Model health",
        "champion": "Champion",
        "auc": "ROC-AUC (holdout)",
        "trained": "Trained",
        "no_champion": "No model has been promoted yet.",
    },
    "de-DE": {
        "experiment_title": "Experimentbericht: {experiment}",
        "weekly_title": "Wöchentlicher Management-Bericht",
        "generated": "Erstellt am {when} ({zone})",
        "period": "Zeitraum: {start} bis {end}",
        "data_as_of": "Datenstand {day}",
        "decision": "Entscheidung",
        "reasons": "Gründe",
        "summary": "Zusammenfassung",
        "intervals": "Effekt je Metrik und Variante (Punkt: Schätzung; Linie: Intervall)",
        "numbers": "Zahlen",
        "srm": "Stichprobenverhältnis",
        "srm_ok": "Kein Sample Ratio Mismatch ({p}).",
        "srm_failed": "Sample Ratio Mismatch ({p}): Die Zuteilung ist fehlerhaft, "
        "den Ergebnissen ist nicht zu trauen.",
        "metric": "Metrik",
        "variant": "Variante",
        "control_mean": "Kontrolle",
        "treatment_mean": "Behandlung",
        "units": "Einheiten",
        "lift": "Effekt",
        "interval": "Intervall",
        "level": "Niveau",
        "p_value": "p-Wert",
        "significant": "Signifikant",
        "yes": "ja",
        "no": "nein",
        "relative": "relativ",
        "absolute": "absolut",
        "SHIP": "Ausrollen",
        "DO NOT SHIP": "Nicht ausrollen",
        "INCONCLUSIVE": "Nicht eindeutig",
        "summary_comparison": "{variant} gegenüber {control} bei {metric}: {lift} ({scale}), "
        "{level}-Intervall {low} bis {high}, {p}.",
        "summary_verdict": "Entscheidung: {verdict}.",
        "kpis": "Kennzahlen der Woche {start} bis {end}",
        "kpi": "Kennzahl",
        "this_week": "Diese Woche",
        "previous_week": "Vorwoche",
        "change": "Veränderung",
        "revenue": "Umsatz",
        "orders": "Bestellungen",
        "aov": "Durchschnittlicher Bestellwert",
        "customers": "Kunden",
        "conversion": "Sitzungs-Konversion",
        "no_week": "Noch keine vollständige Woche in den Daten.",
        "experiments": "Experimente",
        "experiment": "Experiment",
        "status": "Status",
        "planned": "geplant",
        "running": "läuft",
        "finished": "beendet",
        "not_analysed": "noch keine Daten",
        "model": "Modellzustand",
        "champion": "Champion",
        "auc": "ROC-AUC (Holdout)",
        "trained": "Trainiert",
        "no_champion": "Noch kein Modell befördert.",
    },
}


@dataclass(frozen=True)
class ReportLanguage:
    tag: str  # BCP 47, as the request names it
    babel: str  # Babel's locale for numbers and dates
    labels: dict[str, str]

    def text(self, label: str, **values: object) -> str:
        return self.labels[label].format(**values)

    @property
    def words(self) -> Wording:
        """The decision's summary and reasons in this language, as POST /ab/analyze writes
        them with this ``locale``."""
        return WORDINGS[self.tag]


def report_language(requested: object) -> ReportLanguage:
    """The language a request names (``locale``: en-US or de-DE; 400 naming it otherwise)."""
    tag = choice(requested, "locale", tuple(LABELS))
    return ReportLanguage(tag, LOCALES[tag].symbols, LABELS[tag])
