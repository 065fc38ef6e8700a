// Experiments: the list with status, dates and variants (GET /ab/experiments) and its downloads;
// #/experiments/<id> opens one experiment's results page.
import { useEffect, useState } from "preact/hooks";
import { formatDay, formatValue } from "../format.js";
import { ExperimentResults } from "./ExperimentResults.jsx";
import { Downloads } from "./KpiTable.jsx";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

const STATUSES = ["planned", "running", "finished"];

function experimentFromHash() {
  const id = /^#\/?experiments\/(.+)$/.exec(location.hash)?.[1];
  return id ? decodeURIComponent(id) : null;
}

export function Experiments(props) {
  const [experimentId, setExperimentId] = useState(experimentFromHash);
  useEffect(() => {
    const follow = () => setExperimentId(experimentFromHash());
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  return experimentId ? <ExperimentResults key={experimentId} experimentId={experimentId} {...props} /> : <ExperimentList {...props} />;
}

function ExperimentList({ t, locale }) {
  const [status, setStatus] = useState("");
  const state = useApi("/ab/experiments", { status });
  const list = state.data?.experiments ?? [];
  const metric = (name) => t.metrics[name] ?? name;
  return (
    <section aria-labelledby="experiments-title">
      <h2 id="experiments-title">{t.experiments}</h2>
      <form class="pickers" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t.status}
          <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{t.all}</option>
            {STATUSES.map((s) => (
              <option value={s}>{t[s]}</option>
            ))}
          </select>
        </label>
      </form>
      <Status state={{ ...state, empty: state.data && list.length === 0 }} t={t} emptyText={t.noExperiments} />
      {list.length > 0 && (
        <>
          <p class="covers">
            {t.asOf}: {formatDay(state.data.as_of, locale)}
          </p>
          <Downloads path="/ab/experiments" params={{ status }} t={t} locale={locale} />
          <div class="table-wrap">
            <table class="rows experiments">
              <thead>
                <tr>
                  <th scope="col">{t.experiment}</th>
                  <th scope="col">{t.status}</th>
                  <th scope="col">{t.start}</th>
                  <th scope="col">{t.end}</th>
                  <th scope="col">{t.primaryMetric}</th>
                  <th scope="col">{t.otherMetrics}</th>
                  <th scope="col">{t.variants}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((e) => (
                  <tr data-experiment={e.experiment_id}>
                    <td>
                      <a href={`#/experiments/${encodeURIComponent(e.experiment_id)}`}>
                        <code>{e.experiment_id}</code>
                      </a>
                    </td>
                    <td><span class={`badge status-${e.status}`}>{t[e.status] ?? e.status}</span></td>
                    <td>{formatDay(e.start_date, locale)}</td>
                    <td>{formatDay(e.end_date, locale)}</td>
                    <td>{metric(e.primary_metric)}</td>
                    <td>{e.other_metrics.map(metric).join(", ")}</td>
                    <td>
                      {e.variants
                        .map((v) => `${v.name} ${formatValue(v.weight, "ratio", locale, t)}`)
                        .join(" · ")}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
