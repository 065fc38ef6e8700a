// Reports: the stored PDFs (GET /reports) with their downloads, and the weekly report made on
// demand (POST /reports/weekly) in the page's language. GET /reports has no CSV/XLSX form.
import { useState } from "preact/hooks";
import { download, postJson, snapshot } from "../api.js";
import { formatTime, formatValue } from "../format.js";
import { LANGUAGES } from "../i18n.js";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

const languageName = (tag) => Object.values(LANGUAGES).find((l) => l.locale === tag)?.name ?? tag;

function ReportRow({ report, isNew, t, locale, timeZone }) {
  const [error, setError] = useState(null);
  const save = () => {
    setError(null);
    download(report.url).catch((e) => setError(e.message));
  };
  const weekly = report.kind === "weekly";
  return (
    <tr data-report={report.report_id} class={isNew ? "new" : ""}>
      <td data-column="kind">{t.reportsPage.kinds[report.kind] ?? report.kind}</td>
      <td data-column="experiment">{weekly ? "–" : <code>{report.subject}</code>}</td>
      <td data-column="period">{weekly ? report.subject : "–"}</td>
      <td data-column="language">{languageName(report.locale)}</td>
      <td data-column="created">{formatTime(report.created, locale, timeZone)}</td>
      <td data-column="size" class="num">{formatValue(report.size, "count", locale, t)}</td>
      <td>
        <button type="button" data-download={report.report_id} disabled={Boolean(snapshot)} onClick={save}>
          PDF
        </button>
        {error && <span class="status error" role="alert">{error}</span>}
      </td>
    </tr>
  );
}

function ReportList({ newest, t, locale, timeZone }) {
  const state = useApi("/reports");
  const reports = state.data?.reports ?? [];
  return (
    <>
      <Status state={{ ...state, empty: state.data && reports.length === 0 }} t={t} emptyText={t.reportsPage.none} />
      {reports.length > 0 && (
        <div class="table-wrap">
          <table class="rows reports">
            <thead>
              <tr>
                <th scope="col">{t.reportsPage.kind}</th>
                <th scope="col">{t.experiment}</th>
                <th scope="col">{t.columns.period}</th>
                <th scope="col">{t.language}</th>
                <th scope="col">{t.reportsPage.created}</th>
                <th scope="col" class="num">
                  {t.reportsPage.size} <span class="unit">({t.reportsPage.bytes})</span>
                </th>
                <th scope="col">{t.download}</th>
              </tr>
            </thead>
            <tbody>
              {reports.map((report) => (
                <ReportRow report={report} isNew={report.report_id === newest} t={t} locale={locale} timeZone={timeZone} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function Reports({ t, locale, timeZone }) {
  const [making, setMaking] = useState(false);
  const [error, setError] = useState(null);
  const [newest, setNewest] = useState(null); // the report made here: listed again, marked
  const makeWeekly = () => {
    setMaking(true);
    setError(null);
    postJson("/reports/weekly", { locale })
      .then((stored) => setNewest(stored.report_id))
      .catch((e) => setError(e.message))
      .finally(() => setMaking(false));
  };
  return (
    <section aria-labelledby="reports-title">
      <h2 id="reports-title">{t.reportsPage.title}</h2>
      <div class="downloads">
        <button type="button" data-make="weekly" disabled={making || Boolean(snapshot)} onClick={makeWeekly}>
          {making ? t.reportsPage.making : t.reportsPage.makeWeekly}
        </button>
        {error && <span class="status error" role="alert">{t.error}: {error}</span>}
      </div>
      <p class="note">{snapshot ? t.reportsPage.offline : t.reportsPage.weeklyNote}</p>
      {/* A new report reloads the list, which then shows it first. */}
      <ReportList key={newest} newest={newest} t={t} locale={locale} timeZone={timeZone} />
    </section>
  );
}
