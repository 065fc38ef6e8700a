// The experiment's results as the API's CSV/XLSX files, and its one-page PDF report: made by
// POST /reports/experiments/{id} in the page's language, then downloaded from the URL it answers.
import { useState } from "preact/hooks";
import { download, postJson } from "../api.js";
import { Downloads } from "./KpiTable.jsx";

export function ExperimentReport({ experimentId, t, locale }) {
  const path = `/ab/experiments/${encodeURIComponent(experimentId)}`;
  const [state, setState] = useState({ loading: false, error: null });
  const makePdf = () => {
    setState({ loading: true, error: null });
    postJson(`/reports/experiments/${encodeURIComponent(experimentId)}`, { locale })
      .then((report) => download(report.url))
      .then(() => setState({ loading: false, error: null }))
      .catch((error) => setState({ loading: false, error: error.message }));
  };
  return (
    <div class="report">
      <Downloads path={path} params={{}} t={t} locale={locale} />
      <div class="downloads">
        <button type="button" data-report="pdf" disabled={state.loading} onClick={makePdf}>
          {state.loading ? t.makingReport : t.pdfReport}
        </button>
        {state.error && <span class="status error" role="alert">{state.error}</span>}
      </div>
    </div>
  );
}
