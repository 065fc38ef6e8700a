// One pipeline run in full (GET /pipeline/runs/<id>): its failures first, then the build's dbt
// summary, each validation gate with its numbers, and the training decision with its reasons.
import { formatMeasure, formatTime, formatValue } from "../format.js";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

const FAILED = ["fail", "error", "failed", "interrupted"];
// A rejected model is a decision; rejected data is a failure of the run.
const failedStage = (stage, record) => FAILED.includes(record.status) || (stage === "validation" && record.status === "rejected");
// The build summary's parts shown apart from its key/value numbers.
const SHOWN_APART = ["status", "freshness"];

export function PipelineRun({ runId, t, locale, timeZone }) {
  const state = useApi(`/pipeline/runs/${encodeURIComponent(runId)}`, {});
  const stages = state.data?.stages;
  const props = { t, locale, timeZone };
  return (
    <div class="run-details" data-run-details={runId}>
      <Status state={state} t={t} />
      {stages && (
        <>
          <Failures stages={stages} t={t} />
          <Stage name="build" record={stages.build} {...props}>
            {stages.build?.summary && <BuildSummary summary={stages.build.summary} {...props} />}
          </Stage>
          <Stage name="validation" record={stages.validation} {...props}>
            {stages.validation && <Validation report={stages.validation} {...props} />}
          </Stage>
          <Stage name="training" record={stages.training} {...props}>
            {stages.training && <Training record={stages.training} {...props} />}
          </Stage>
        </>
      )}
    </div>
  );
}

/** What went wrong, in one box above everything else: each failed stage with its error. */
function Failures({ stages, t }) {
  const failed = Object.entries(stages).filter(([stage, record]) => failedStage(stage, record));
  if (failed.length === 0) return null;
  return (
    <div class="failure" role="alert">
      {failed.map(([stage, record]) => (
        <p data-failed-stage={stage}>
          <strong>
            {t.failure}: {t.stages[stage]} ({t.runStatuses[record.status] ?? record.status})
          </strong>{" "}
          {failureText(stage, record)}
        </p>
      ))}
    </div>
  );
}

function failureText(stage, record) {
  if (record.error) return record.error;
  if (stage === "validation") return record.gates.filter((g) => !g.passed).map((g) => `${g.name}: ${g.message}`).join(" · ");
  return (record.summary?.failed_nodes ?? []).join(", ");
}

function Stage({ name, record, t, locale, timeZone, children }) {
  return (
    <section class="run-stage" data-stage-details={name}>
      <h3>
        {t.stages[name]}
        {record && <span class={`badge run-${record.status}`}>{t.runStatuses[record.status] ?? record.status}</span>}
      </h3>
      {record ? (
        <p class="note">
          {t.startedAt}: {record.started_at ? formatTime(record.started_at, locale, timeZone) : "–"}
          {record.seconds != null && ` · ${formatValue(record.seconds, "seconds", locale, t)} s`}
          {record.attempt > 1 && ` · ${t.attempt} ${record.attempt}`}
        </p>
      ) : (
        <p class="note">{t.notReached}</p>
      )}
      {children}
    </section>
  );
}

function BuildSummary({ summary, t, locale }) {
  const numbers = Object.fromEntries(Object.entries(summary).filter(([k]) => !SHOWN_APART.includes(k)));
  const sources = Object.entries(summary.freshness ?? {});
  return (
    <>
      <h4>{t.dbtSummary}</h4>
      <KeyValues values={numbers} t={t} locale={locale} name="build" />
      {sources.length > 0 && (
        <>
          <h4>{t.freshness}</h4>
          <table class="details">
            <tbody>
              {sources.map(([source, f]) => (
                <tr data-source={source}>
                  <th scope="row">{source}</th>
                  <td><span class={`badge fresh-${f.status}`}>{t.runStatuses[f.status] ?? f.status}</span></td>
                  <td>{f.max_loaded_at ?? "–"}</td>{/* dbt's own text: the source's zone is not known */}
                  <td class="num">{f.age_hours == null ? "–" : `${formatMeasure(f.age_hours, locale)} h`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

function Validation({ report, t, locale }) {
  return (
    <>
      <h4>{t.gates}</h4>
      <table class="details gates">
        <thead>
          <tr>
            <th scope="col">{t.gate}</th>
            <th scope="col">{t.result}</th>
            <th scope="col">{t.message}</th>
            <th scope="col">{t.numbers}</th>
          </tr>
        </thead>
        <tbody>
          {report.gates.map((gate) => (
            <tr data-gate={gate.name} class={gate.passed ? "" : "gate-failed"}>
              <th scope="row"><code>{gate.name}</code></th>
              <td>
                <span class={`badge ${gate.passed ? "run-validated" : "run-rejected"}`}>{gate.passed ? t.passed : t.failedGate}</span>
              </td>
              <td class="message">{gate.message}</td>
              <td><KeyValues values={gate.numbers} t={t} locale={locale} name={gate.name} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="run-facts">
        <div>
          <h4>{t.rowCounts}</h4>
          <KeyValues values={report.row_counts} t={t} locale={locale} name="row_counts" />
        </div>
        <div>
          <h4>{t.thresholds}</h4>
          <KeyValues values={report.thresholds} t={t} locale={locale} name="thresholds" />
        </div>
      </div>
    </>
  );
}

function Training({ record, t, locale }) {
  const facts = {
    [t.decision]: record.decision,
    [t.version]: record.version,
    [t.winner]: record.winner,
    [t.holdoutAuc]: record.holdout_roc_auc,
  };
  return (
    <>
      <KeyValues values={facts} t={t} locale={locale} name="training" />
      {record.reasons?.length > 0 && (
        <>
          <h4>{t.reasons}</h4>
          <ul class="reasons">
            {record.reasons.map((reason) => (
              <li>{reason}</li>
            ))}
          </ul>
        </>
      )}
      {record.candidates && (
        <>
          <h4>{t.candidates} (ROC-AUC)</h4>
          <KeyValues values={record.candidates} t={t} locale={locale} name="candidates" />
        </>
      )}
    </>
  );
}

/** Nested objects read as dotted keys (models.passed), so every number gets its own row. */
function flatten(values, prefix = "") {
  return Object.entries(values ?? {}).flatMap(([key, value]) =>
    value && typeof value === "object" && !Array.isArray(value) ? flatten(value, `${prefix}${key}.`) : [[`${prefix}${key}`, value]],
  );
}

// Units the API spells in a number's name (dbt_seconds, age_hours).
const UNITS = [
  [/seconds$/, " s"],
  [/hours$/, " h"],
];

function show(value, t, locale, key = "") {
  if (value === null || value === undefined) return "–";
  if (Array.isArray(value)) return value.length ? value.map((v) => show(v, t, locale)).join(", ") : "–";
  if (typeof value === "number") return formatMeasure(value, locale) + (UNITS.find(([name]) => name.test(key))?.[1] ?? "");
  if (typeof value === "boolean") return value ? t.yes : t.no;
  return String(value);
}

/** A small key/value table of numbers (and the odd name or flag), in the page's locale. */
function KeyValues({ values, t, locale, name }) {
  const entries = flatten(values);
  if (entries.length === 0) return <span class="note">–</span>;
  return (
    <table class="numbers" data-numbers={name}>
      <tbody>
        {entries.map(([key, value]) => (
          <tr data-key={key}>
            <th scope="row">{key}</th>
            <td class={typeof value === "number" ? "num" : ""}>{show(value, t, locale, key)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
