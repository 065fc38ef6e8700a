"""The reports as one-page A4 PDFs, drawn with ReportLab: platypus for the text and tables, its
graphics (a value axis, lines and dots) for the interval charts. The core Helvetica fonts are
WinAnsi-encoded, which holds €, £, German umlauts and ß, so no font file ships.

ReportLab is imported here only, and this module only when a report is made: a function start
never pays for it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from common.experiments import mart_metric_units
from common.reports.content import ExperimentContent, WeekKpis, WeeklyContent
from common.reports.formats import Formats
from common.reports.texts import ReportLanguage

CHART_WIDTH = 480
ROW_HEIGHT = 18
DECISION_WIDTH = 300  # points: the weekly report's decision sentences wrap within it
SHIP_COLOURS = {"SHIP": "#1a7f37", "DO NOT SHIP": "#cf222e", "INCONCLUSIVE": "#9a6700"}


def experiment_pdf(
    content: ExperimentContent, language: ReportLanguage, formats: Formats, generated: datetime
) -> bytes:
    from reportlab.platypus import Paragraph, Spacer

    experiment, analysis = content.experiment, content.analysis
    styles = _styles()
    decision = analysis["decision"]
    comparisons = analysis["comparisons"]
    verdict = language.text(decision["verdict"])
    title = language.text("experiment_title", experiment=experiment["experiment_id"])
    story = [
        Paragraph(_escape(title), styles["Title"]),
        Paragraph(_period_line(experiment, language, formats, generated), styles["Small"]),
        Paragraph(
            f"{language.text('decision')}: <font color='{SHIP_COLOURS[decision['verdict']]}'>"
            f"<b>{verdict}</b></font>"
            + (f" ({_escape(decision['variant'])})" if decision["variant"] else ""),
            styles["Heading2"],
        ),
        *[Paragraph("• " + _escape(r["message"]), styles["Small"]) for r in decision["reasons"]],
        Paragraph(language.text("summary"), styles["Heading3"]),
        Paragraph(_escape(_summary(analysis, language, formats)), styles["Body"]),
        Paragraph(language.text("srm"), styles["Heading3"]),
        _srm(analysis["srm"], language, formats, styles),
        Paragraph(language.text("intervals"), styles["Heading3"]),
        *_interval_charts(comparisons, formats),
        Spacer(0, 6),
        Paragraph(language.text("numbers"), styles["Heading3"]),
        _numbers_table(analysis, language, formats),
    ]
    return _document(story, title)


def weekly_pdf(
    content: WeeklyContent, language: ReportLanguage, formats: Formats, generated: datetime
) -> bytes:
    from reportlab.platypus import Paragraph

    styles = _styles()
    story: list[Any] = [
        Paragraph(language.text("weekly_title"), styles["Title"]),
        Paragraph(
            language.text("generated", when=formats.instant(generated), zone=formats.time_zone),
            styles["Small"],
        ),
    ]
    if content.week is None:
        story.append(Paragraph(language.text("no_week"), styles["Body"]))
    else:
        week = content.week
        story += [
            Paragraph(
                language.text("kpis", start=formats.day(week.start), end=formats.day(week.end)),
                styles["Heading2"],
            ),
            _kpi_table(week, content.previous, language, formats),
        ]
    story.append(Paragraph(language.text("experiments"), styles["Heading2"]))
    rows = [[language.text("experiment"), language.text("status"), language.text("decision")]]
    for e in content.experiments:
        # the decision as the summary of POST /ab/analyze in this language begins
        decision = Paragraph(_escape(e.headline), styles["Small"]) if e.headline else None
        rows.append(
            [e.experiment_id, language.text(e.status), decision or language.text("not_analysed")]
        )
    story.append(_table(rows, widths=(None, None, DECISION_WIDTH)))
    story.append(Paragraph(language.text("model"), styles["Heading2"]))
    champion = content.champion
    if champion is None:
        story.append(Paragraph(language.text("no_champion"), styles["Body"]))
    else:
        trained = formats.instant(datetime.fromisoformat(champion.trained_at))
        story.append(
            _table(
                [
                    [language.text("champion"), champion.version],
                    [language.text("auc"), formats.number(champion.roc_auc)],
                    [language.text("trained"), trained],
                ],
                header=False,
            )
        )
    return _document(story, language.text("weekly_title"))


def _period_line(
    experiment: dict[str, Any], language: ReportLanguage, formats: Formats, generated: datetime
) -> str:
    period = language.text(
        "period",
        start=formats.day(experiment["start_date"]),
        end=formats.day(experiment["end_date"]),
    )
    status = language.text(experiment["status"])
    as_of = language.text("data_as_of", day=formats.day(experiment["as_of"]))
    made = language.text("generated", when=formats.instant(generated), zone=formats.time_zone)
    return f"{period} · {status} · {as_of} · {made}"


def _summary(analysis: dict[str, Any], language: ReportLanguage, formats: Formats) -> str:
    """The primary metric's comparisons and the verdict, in sentences."""
    comparisons = analysis["comparisons"]
    primary = [c for c in comparisons if c["role"] == "primary"] or comparisons[:1]
    sentences = []
    for c in primary:
        interval = _reported(c)
        low, high = interval["ci"]
        shown = _lift_formatter(c, formats)
        sentences.append(
            language.text(
                "summary_comparison",
                variant=c["variant"],
                control=analysis["control"],
                metric=c["metric"],
                lift=shown(interval["estimate"]),
                scale=language.text(c["scale"]),
                level=formats.percent(c["ci_level"]),
                low=shown(low),
                high=shown(high),
                p=formats.p_clause(c["p_value"]),
            )
        )
    sentences.append(
        language.text("summary_verdict", verdict=language.text(analysis["decision"]["verdict"]))
    )
    return " ".join(sentences)


def _srm(srm: dict[str, Any], language: ReportLanguage, formats: Formats, styles: Any) -> Any:
    from reportlab.platypus import Paragraph

    failed = not srm["passed"]
    text = language.text("srm_failed" if failed else "srm_ok", p=formats.p_clause(srm["p_value"]))
    colour = "#cf222e" if failed else "#1a7f37"
    return Paragraph(f"<font color='{colour}'>{_escape(text)}</font>", styles["Body"])


def _reported(comparison: dict[str, Any]) -> dict[str, Any]:
    """The interval the test inverts (its ci excludes 0 iff significant)."""
    return comparison["relative" if comparison["scale"] == "relative" else "absolute"]


def _lift_formatter(comparison: dict[str, Any], formats: Formats):
    if comparison["scale"] == "relative":
        return lambda value: formats.percent(value, signed=True)
    return formats.number


def _interval_charts(comparisons: Sequence[dict[str, Any]], formats: Formats) -> list[Any]:
    """One chart per metric: each treatment's estimate and interval against a zero line, on
    the scale the comparison is tested on."""
    from reportlab.graphics.charts.axes import XValueAxis
    from reportlab.graphics.shapes import Circle, Drawing, Line, String
    from reportlab.lib import colors

    charts = []
    for metric in dict.fromkeys(c["metric"] for c in comparisons):
        rows = [c for c in comparisons if c["metric"] == metric]
        values = [0.0] + [
            v
            for c in rows
            for v in (*_reported(c)["ci"], _reported(c)["estimate"])
            if v is not None
        ]
        low, high = min(values), max(values)
        pad = (high - low) * 0.1 or 0.01
        label_width = 150
        height = ROW_HEIGHT * len(rows) + 30
        drawing = Drawing(CHART_WIDTH, height)
        axis = XValueAxis()
        axis.setPosition(label_width, 18, CHART_WIDTH - label_width - 10)
        axis.configure([(low - pad, high + pad)])
        shown = _lift_formatter(rows[0], formats)
        axis.labelTextFormat = shown
        axis.labels.fontName, axis.labels.fontSize = "Helvetica", 7
        drawing.add(axis)
        zero = axis.scale(0.0)
        drawing.add(
            Line(zero, 18, zero, height - 4, strokeColor=colors.grey, strokeDashArray=[2, 2])
        )
        for i, c in enumerate(rows):
            y = height - 12 - i * ROW_HEIGHT
            interval = _reported(c)
            lo, hi = interval["ci"]
            colour = colors.HexColor("#1a7f37" if c["significant"] else "#57606a")
            drawing.add(
                String(0, y - 3, f"{metric} · {c['variant']}", fontName="Helvetica", fontSize=8)
            )
            left = axis.scale(lo if lo is not None else low - pad)
            right = axis.scale(hi if hi is not None else high + pad)
            drawing.add(Line(left, y, right, y, strokeColor=colour, strokeWidth=2))
            if interval["estimate"] is not None:
                drawing.add(
                    Circle(
                        axis.scale(interval["estimate"]), y, 3, fillColor=colour, strokeColor=colour
                    )
                )
        charts.append(drawing)
    return charts


def _numbers_table(analysis: dict[str, Any], language: ReportLanguage, formats: Formats) -> Any:
    units = mart_metric_units(formats.currency)
    header = [
        language.text(k)
        for k in (
            "metric",
            "variant",
            "units",
            "control_mean",
            "treatment_mean",
            "lift",
            "interval",
            "level",
            "p_value",
            "significant",
        )
    ]
    rows = [header]
    for c in analysis["comparisons"]:
        mean = _mean_formatter(units.get(c["metric"]), formats)
        shown = _lift_formatter(c, formats)
        interval = _reported(c)
        low, high = interval["ci"]
        rows.append(
            [
                c["metric"],
                c["variant"],
                formats.count(c["treatment"]["n"]),
                mean(c["control"]["mean"]),
                mean(c["treatment"]["mean"]),
                shown(interval["estimate"]),
                f"[{shown(low)}; {shown(high)}]",
                formats.percent(c["ci_level"]),
                formats.p_value(c["p_value"]),
                language.text("yes" if c["significant"] else "no"),
            ]
        )
    return _table(rows, numeric_from=2)


def _mean_formatter(unit: str | None, formats: Formats):
    if unit == "ratio":
        return formats.percent
    if unit == formats.currency:
        return formats.money
    return formats.number


def _kpi_table(
    week: WeekKpis, previous: WeekKpis | None, language: ReportLanguage, formats: Formats
) -> Any:
    rows = [[language.text(k) for k in ("kpi", "this_week", "previous_week", "change")]]
    for key, shown in (
        ("revenue", formats.money),
        ("orders", formats.count),
        ("aov", formats.money),
        ("customers", formats.count),
        ("conversion", formats.percent),
    ):
        now = getattr(week, key)
        before = getattr(previous, key) if previous else None
        change = (now - before) / before if now is not None and before else None
        rows.append(
            [language.text(key), shown(now), shown(before), formats.percent(change, signed=True)]
        )
    return _table(rows, numeric_from=1)


def _table(
    rows: list[list[Any]],
    numeric_from: int | None = None,
    header: bool = True,
    widths: Sequence[float | None] | None = None,
) -> Any:
    """A grid with a shaded header row; columns from ``numeric_from`` on (numbers) aligned
    right; ``widths``: a column's width where it holds wrapping text, None to fit its cells."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d0d7de")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        # half ReportLab's default padding: ten columns of German figures fit across A4
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style += [
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f6f8fa")),
        ]
    if numeric_from is not None:
        style.append(("ALIGN", (numeric_from, 1 if header else 0), (-1, -1), "RIGHT"))
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _styles() -> Any:
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    sheet = getSampleStyleSheet()
    sheet["Title"].fontSize = 16
    sheet.add(ParagraphStyle("Body", parent=sheet["BodyText"], fontSize=9, leading=12))
    sheet.add(
        ParagraphStyle(
            "Small", parent=sheet["BodyText"], fontSize=8, leading=10, textColor="#57606a"
        )
    )
    return sheet


def _document(story: list[Any], title: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    # invariant: same content, same bytes (no creation date or random id in the file)
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="ExecKPI",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        invariant=True,
    )
    document.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    """Paragraphs read a little XML: names and engine messages are text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
