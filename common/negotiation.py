"""Which representation of an answer a client asked for: JSON, or a file to download (CSV,
XLSX) formatted for a locale; and the download as an HTTP response. The KPI and the experiment
answers share it, so ``format``, ``locale``, ``Accept`` and ``Accept-Language`` mean the same
everywhere."""

from __future__ import annotations

from dataclasses import dataclass

import flask

from common.downloads import CSV, XLSX, Table, as_csv, as_xlsx
from common.locales import DownloadLocale, choose_locale
from common.validation import choice

RESPONSE_OPTIONS = ("format", "locale")  # query parameters of the representation
FORMATS = {"json": "application/json", "csv": CSV, "xlsx": XLSX}  # the first is the default
DOWNLOADS = {"csv": as_csv, "xlsx": as_xlsx}
VARY = "Accept, Accept-Language"  # both choose the representation


@dataclass(frozen=True)
class Representation:
    format: str  # a key of FORMATS
    locale: DownloadLocale  # of a download; JSON is locale-free

    @property
    def is_download(self) -> bool:
        return self.format in DOWNLOADS


def requested(request: flask.Request) -> Representation:
    """``format`` (else the best ``Accept`` match, else JSON) and the download's locale; an
    unknown format or locale is a 400 naming it, raised before any data is read."""
    answer_format = request.args.get("format")
    if answer_format is not None:
        answer_format = choice(answer_format, "format", tuple(FORMATS))
    else:
        media = request.accept_mimetypes.best_match(list(FORMATS.values()))
        answer_format = next((name for name, m in FORMATS.items() if m == media), "json")
    locale = choose_locale(request.args.get("locale"), request.accept_languages)
    return Representation(answer_format, locale)


def download_response(
    table: Table, wanted: Representation, headers: dict[str, str]
) -> flask.Response:
    download = DOWNLOADS[wanted.format](table, wanted.locale)
    headers = {**headers, "Content-Disposition": download.disposition}
    return flask.Response(download.body, 200, headers, mimetype=download.mimetype)
