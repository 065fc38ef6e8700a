// Model: the champion and its metrics (GET /ml/latest), its curves and calibration plot, its drift, the
// training history with its reasons (GET /ml/models), global SHAP importance (GET /ml/shap) and
// dependence, a prediction form (POST /ml/predict); each table with its CSV/XLSX downloads.
import { useState } from "preact/hooks";
import { postJson } from "../api.js";
import { BarChart } from "../chart.jsx";
import { formatTime, formatValue } from "../format.js";
import { Downloads } from "./KpiTable.jsx";
import { Drift } from "./ModelDrift.jsx";
import { CalibrationPlot, CalibrationTable, CurvePlots, Dependence } from "./ModelPlots.jsx";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

const HISTORY = 20;

// Each headline metric with the unit it is read in: scores 0-1 as plain numbers, rates as %.
const METRICS = [
  ["roc_auc", "score"],
  ["pr_auc", "score"],
  ["top_decile_lift", "times"],
  ["log_loss", "score"],
  ["brier", "score"],
  ["recall", "ratio"],
  ["precision", "ratio"],
  ["threshold", "ratio"],
  ["rows", "count"],
  ["positives", "count"],
];

function metricText(value, unit, locale, t) {
  if (unit === "times") return `${formatValue(value, "score", locale, t)}\u00a0×`;
  return formatValue(value, unit, locale, t);
}

function Champion({ champion, history, t, locale, timeZone }) {
  const { metrics, pointer } = champion;
  const promotion = history?.models.find((m) => m.version === champion.version);
  return (
    <>
      <p>
        {t.version} <code data-champion-version>{champion.version}</code> · {pointer.kind} · {t.promotedAt}{" "}
        {formatTime(pointer.promoted_at, locale, timeZone)}
      </p>
      {promotion && (
        <ul class="reasons" aria-label={t.promotionReasons}>
          {promotion.reasons.map((reason) => (
            <li>{reason}</li>
          ))}
        </ul>
      )}
      <div class="cards">
        {METRICS.filter(([name]) => metrics[name] != null).map(([name, unit]) => (
          <div class="card" data-metric={name}>
            <span class="card-label">
              {t.mlMetrics[name]}
              {unit === "count" ? ` (${t.units.count})` : ""}
            </span>
            <span class="card-value">{metricText(metrics[name], unit, locale, t)}</span>
          </div>
        ))}
      </div>
      <h3>{t.calibration}</h3>
      <CalibrationPlot calibration={metrics.calibration} t={t} locale={locale} />
      <Downloads path="/ml/latest" params={{}} t={t} locale={locale} />
      <CalibrationTable
        name="calibration"
        firstHeader={t.predictedRange}
        bins={metrics.calibration.map((bin) => ({
          label: `${formatValue(bin.low, "ratio", locale, t)} – ${formatValue(bin.high, "ratio", locale, t)}`,
          rows: bin.count,
          predicted: bin.mean_predicted,
          observed: bin.observed_rate,
        }))}
        t={t}
        locale={locale}
      />
    </>
  );
}

function History({ history, t, locale, timeZone }) {
  return (
    <div class="table-wrap">
      <table class="rows models">
        <thead>
          <tr>
            <th scope="col">{t.version}</th>
            <th scope="col">{t.startedAt}</th>
            <th scope="col">{t.decision}</th>
            <th scope="col" class="num">{t.mlMetrics.roc_auc}</th>
            <th scope="col">{t.promotionReasons}</th>
          </tr>
        </thead>
        <tbody>
          {history.models.map((record) => (
            <tr data-model={record.version ?? record.run_id}>
              <td><code>{record.version ?? record.run_id}</code></td>
              <td>{formatTime(record.started_at, locale, timeZone)}</td>
              <td>
                <span class={`badge run-${record.decision ?? record.status}`}>{record.decision ?? record.status}</span>
              </td>
              <td class="num" data-column="holdout_roc_auc">
                {formatValue(record.holdout_roc_auc, "score", locale, t)}
              </td>
              <td>{(record.reasons ?? []).join("; ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Importance({ shap, t, locale }) {
  const labels = shap.importances.map((i) => i.feature);
  const values = shap.importances.map((i) => i.mean_abs_shap);
  const label = `${t.meanAbsShap} (${t.logOdds})`;
  return (
    <BarChart labels={labels} series={[{ label, values }]} label={label} format={(v) => formatValue(v, "score", locale, t)} horizontal />
  );
}

/** A first row to edit: each numeric feature at its minimum (or 0), each category at its first level. */
function startingRow(card) {
  const levels = Object.fromEntries(card.encoding.categorical.map((c) => [c.feature, c.levels]));
  return Object.fromEntries(
    card.features.map((f) => [f.name, f.kind === "categorical" ? levels[f.name]?.[0] ?? "" : String(f.minimum ?? 0)]),
  );
}

function Predict({ card, t, locale }) {
  const [row, setRow] = useState(() => startingRow(card));
  const [state, setState] = useState({ loading: false, data: null, error: null });
  const levels = Object.fromEntries(card.encoding.categorical.map((c) => [c.feature, c.levels]));
  const submit = (event) => {
    event.preventDefault();
    // Numbers go as JSON numbers; the API alone judges ranges and answers which field is wrong.
    const body = Object.fromEntries(
      card.features.map((f) => [f.name, f.kind === "categorical" ? row[f.name] : row[f.name] === "" ? null : Number(row[f.name])]),
    );
    setState({ loading: true, data: null, error: null });
    postJson("/ml/predict", { rows: [body] })
      .then((data) => setState({ loading: false, data, error: null }))
      .catch((error) => setState({ loading: false, data: null, error: error.message }));
  };
  const prediction = state.data?.predictions[0];
  return (
    <>
      <form class="predict pickers" noValidate onSubmit={submit}>
        {card.features.map((f) => (
          <label title={f.definition}>
            {f.name}
            {f.kind === "categorical" ? (
              <select name={f.name} value={row[f.name]} onChange={(e) => setRow({ ...row, [f.name]: e.currentTarget.value })}>
                {(levels[f.name] ?? []).map((level) => (
                  <option value={level}>{level}</option>
                ))}
              </select>
            ) : (
              <input
                type="number"
                name={f.name}
                step="any"
                value={row[f.name]}
                onInput={(e) => setRow({ ...row, [f.name]: e.currentTarget.value })}
              />
            )}
          </label>
        ))}
        <button type="submit">{t.predict}</button>
      </form>
      <Status state={state} t={t} />
      {prediction && (
        <div class="prediction">
          <div class="cards">
            <div class="card" data-prediction>
              <span class="card-label">{t.purchaseProbability}</span>
              <span class="card-value">{formatValue(prediction.probability, "ratio", locale, t)}</span>
            </div>
          </div>
          <table class="rows reasons">
            <thead>
              <tr>
                <th scope="col">{t.feature}</th>
                <th scope="col" class="num">{t.value}</th>
                <th scope="col" class="num">SHAP <span class="unit">({t.logOdds})</span></th>
              </tr>
            </thead>
            <tbody>
              {prediction.reasons.map((reason) => (
                <tr data-reason={reason.feature}>
                  <td>{reason.feature}</td>
                  <td class="num">{formatValue(reason.value, "score", locale, t)}</td>
                  <td class="num">{formatValue(reason.shap, "score", locale, t)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function Model({ t, locale, timeZone }) {
  const champion = useApi("/ml/latest");
  const history = useApi("/ml/models", { limit: HISTORY });
  const shap = useApi("/ml/shap");
  return (
    <section aria-labelledby="model-title">
      <h2 id="model-title">{t.champion}</h2>
      <Status state={champion} t={t} />
      {champion.data && <Champion champion={champion.data} history={history.data} t={t} locale={locale} timeZone={timeZone} />}
      {champion.data && <CurvePlots t={t} locale={locale} />}
      <h3>{t.drift}</h3>
      {champion.data && <Drift drift={champion.data.drift} t={t} locale={locale} timeZone={timeZone} />}
      <h3>{t.modelHistory}</h3>
      <Status state={{ ...history, empty: history.data?.models.length === 0 }} t={t} emptyText={t.noModels} />
      {history.data?.models.length > 0 && (
        <>
          <Downloads path="/ml/models" params={{ limit: HISTORY }} t={t} locale={locale} />
          <History history={history.data} t={t} locale={locale} timeZone={timeZone} />
        </>
      )}
      <h3>{t.shapImportance}</h3>
      <Status state={shap} t={t} />
      {shap.data && (
        <div data-table="shap">
          <Downloads path="/ml/shap" params={{}} t={t} locale={locale} />
          <Importance shap={shap.data} t={t} locale={locale} />
        </div>
      )}
      <h3>{t.shapDependence}</h3>
      {shap.data && <Dependence features={shap.data.importances.map((i) => i.feature)} t={t} locale={locale} />}
      <h3>{t.predictTitle}</h3>
      {champion.data && <Predict card={champion.data.model_card} t={t} locale={locale} />}
    </section>
  );
}
