// Pipeline: the recent runs with each stage's status and duration (GET /pipeline/runs).
import { formatTime, formatValue } from "../format.js";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

const STAGES = ["build", "validation", "training"];
const LIMIT = 20;

export function Pipeline({ t, locale, timeZone }) {
  const state = useApi("/pipeline/runs", { limit: LIMIT });
  const runs = state.data?.runs ?? [];
  return (
    <section aria-labelledby="pipeline-title">
      <h2 id="pipeline-title">{t.pipelineRuns}</h2>
      <Status state={{ ...state, empty: state.data && runs.length === 0 }} t={t} emptyText={t.noRuns} />
      {runs.length > 0 && (
        <div class="table-wrap">
          <table class="rows runs">
            <thead>
              <tr>
                <th scope="col">{t.run}</th>
                <th scope="col">{t.startedAt}</th>
                <th scope="col">{t.status}</th>
                {STAGES.map((stage) => (
                  <th scope="col" class="num">
                    {t.stages[stage]} <span class="unit">(s)</span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr data-run={run.run_id}>
                  <td><code>{run.run_id}</code></td>
                  <td>{formatTime(run.started_at, locale, timeZone)}</td>
                  <td>
                    {t.stages[run.stage] ?? run.stage}: <span class={`badge run-${run.status}`}>{run.status}</span>
                  </td>
                  {STAGES.map((stage) => {
                    const record = run.stages?.[stage];
                    return (
                      <td class="num" data-stage={stage} title={record?.status}>
                        {record ? formatValue(record.seconds, "seconds", locale, t) : "–"}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
