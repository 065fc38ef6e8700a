// Pipeline: the recent runs with each stage's status and duration (GET /pipeline/runs); a run
// opens to its full record (PipelineRun), and the list downloads as CSV or XLSX.
import { useState } from "preact/hooks";
import { formatTime, formatValue } from "../format.js";
import { Downloads } from "./KpiTable.jsx";
import { PipelineRun } from "./PipelineRun.jsx";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

const STAGES = ["build", "validation", "training"];
const LIMIT = 20;
const PARAMS = { limit: LIMIT };

export function Pipeline({ t, locale, timeZone }) {
  const state = useApi("/pipeline/runs", PARAMS);
  const [open, setOpen] = useState(null);
  const runs = state.data?.runs ?? [];
  const toggle = (runId) => setOpen((current) => (current === runId ? null : runId));
  return (
    <section aria-labelledby="pipeline-title">
      <h2 id="pipeline-title">{t.pipelineRuns}</h2>
      <Status state={{ ...state, empty: state.data && runs.length === 0 }} t={t} emptyText={t.noRuns} />
      {runs.length > 0 && (
        <>
          <Downloads path="/pipeline/runs" params={PARAMS} t={t} locale={locale} />
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
                  <>
                    <tr data-run={run.run_id} class={open === run.run_id ? "open" : ""} onClick={() => toggle(run.run_id)}>
                      <td>
                        <button
                          type="button"
                          class="expander"
                          data-expand={run.run_id}
                          aria-expanded={open === run.run_id ? "true" : "false"}
                          title={open === run.run_id ? t.hideRun : t.showRun}
                          onClick={(e) => {
                            e.stopPropagation();
                            toggle(run.run_id);
                          }}
                        >
                          {open === run.run_id ? "▾" : "▸"}
                        </button>{" "}
                        <code>{run.run_id}</code>
                      </td>
                      <td>{run.started_at ? formatTime(run.started_at, locale, timeZone) : "–"}</td>
                      <td>
                        {t.stages[run.stage] ?? run.stage}: <span class={`badge run-${run.status}`}>{t.runStatuses[run.status] ?? run.status}</span>
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
                    {open === run.run_id && (
                      <tr class="run-detail">
                        <td colSpan={3 + STAGES.length}>
                          <PipelineRun runId={run.run_id} t={t} locale={locale} timeZone={timeZone} />
                        </td>
                      </tr>
                    )}
                  </>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
