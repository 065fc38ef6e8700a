// The champion's plots: ROC and gains (GET /ml/curves), calibration (from GET /ml/latest's
// metrics) and SHAP dependence per feature (GET /ml/shap/dependence/<feature>).
import { useMemo, useState } from "preact/hooks";
import { XYChart } from "../chart.jsx";
import { formatValue } from "../format.js";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

const DIAGONAL = [
  { x: 0, y: 0 },
  { x: 1, y: 1 },
];

/** A version trained before the API stored these plots answers 404 `not_available`: a note, not an error. */
function Unavailable({ state, t }) {
  if (state.error?.startsWith("404"))
    return (
      <p class="status empty" data-not-available>
        {t.notAvailableForVersion}
      </p>
    );
  return <Status state={state} t={t} />;
}

function usePercent(locale, t) {
  return useMemo(() => (v) => formatValue(v, "ratio", locale, t), [locale, t]);
}

export function CurvePlots({ t, locale }) {
  const curves = useApi("/ml/curves");
  const percent = usePercent(locale, t);
  const times = useMemo(() => (v) => `${formatValue(v, "score", locale, t)}\u00a0×`, [locale, t]);
  const roc = useMemo(
    () =>
      curves.data && [
        { label: t.rocCurve, points: curves.data.roc.map((p) => ({ x: p.fpr, y: p.tpr })), line: true },
        { label: t.chance, points: DIAGONAL, dashed: true },
      ],
    [curves.data, t],
  );
  const gains = useMemo(
    () =>
      curves.data && [
        {
          label: t.gainsCurve,
          points: [{ x: 0, y: 0 }, ...curves.data.gains.map((g) => ({ x: g.share_of_users, y: g.share_of_positives }))],
          line: true,
        },
        { label: t.chance, points: DIAGONAL, dashed: true },
      ],
    [curves.data, t],
  );
  return (
    <>
      <h3>{t.rocTitle}</h3>
      <Unavailable state={curves} t={t} />
      {roc && (
        <div data-plot="roc">
          <XYChart
            series={roc}
            label={t.rocTitle}
            xTitle={`${t.falsePositiveRate} (%)`}
            yTitle={`${t.truePositiveRate} (%)`}
            formatX={percent}
            formatY={percent}
          />
        </div>
      )}
      <h3>{t.gainsTitle}</h3>
      {gains && (
        <>
          <div data-plot="gains">
            <XYChart
              series={gains}
              label={t.gainsTitle}
              xTitle={`${t.shareOfUsers} (%)`}
              yTitle={`${t.shareOfBuyers} (%)`}
              formatX={percent}
              formatY={percent}
            />
          </div>
          <p class="note" data-lift>
            {t.cumulativeLift}:{" "}
            {curves.data.gains.map((g) => `${g.decile}: ${times(g.cumulative_lift)}`).join(" · ")}
          </p>
        </>
      )}
    </>
  );
}

export function CalibrationPlot({ calibration, t, locale }) {
  const percent = usePercent(locale, t);
  const series = useMemo(
    () => [
      {
        label: t.calibrationBins,
        points: calibration.map((b) => ({ x: b.mean_predicted, y: b.observed_rate })),
        line: true,
      },
      { label: t.perfectCalibration, points: DIAGONAL, dashed: true },
    ],
    [calibration, t],
  );
  return (
    <div data-plot="calibration">
      <XYChart
        series={series}
        label={t.calibration}
        xTitle={`${t.meanPredicted} (%)`}
        yTitle={`${t.observedRate} (%)`}
        formatX={percent}
        formatY={percent}
      />
    </div>
  );
}

function DependenceChart({ data, t, locale }) {
  const score = useMemo(() => (v) => formatValue(v, "score", locale, t), [locale, t]);
  const categorical = data.feature_kind === "categorical";
  const present = data.points.filter((p) => p.value !== null);
  const xLabels = useMemo(
    () => (categorical ? [...new Set(present.map((p) => p.value))].sort() : undefined),
    [data],
  );
  const series = useMemo(
    () => [{ label: `SHAP (${t.logOdds})`, points: present.map((p) => ({ x: p.value, y: p.shap })) }],
    [data, t],
  );
  const missing = data.points.length - present.length;
  return (
    <>
      <XYChart
        series={series}
        label={`${t.shapDependence}: ${data.feature}`}
        xTitle={data.feature}
        yTitle={`SHAP (${t.logOdds})`}
        formatX={score}
        formatY={score}
        xLabels={xLabels}
      />
      <p class="note" data-dependence-rows={data.points.length}>
        {t.dependenceNote(formatValue(data.points.length, "count", locale, t), formatValue(missing, "count", locale, t))}
      </p>
    </>
  );
}

export function Dependence({ features, t, locale }) {
  const [chosen, setChosen] = useState(null);
  const feature = chosen ?? features[0];
  const dependence = useApi(`/ml/shap/dependence/${encodeURIComponent(feature)}`);
  return (
    <div data-plot="dependence">
      <div class="pickers">
        <label>
          {t.feature}
          <select name="dependence-feature" value={feature} onChange={(e) => setChosen(e.currentTarget.value)}>
            {features.map((name) => (
              <option value={name}>{name}</option>
            ))}
          </select>
        </label>
      </div>
      <Unavailable state={dependence} t={t} />
      {dependence.data && dependence.data.feature === feature && <DependenceChart data={dependence.data} t={t} locale={locale} />}
    </div>
  );
}

/** Calibration bins as a table: each bin's `label` (a probability range or a decile), rows, mean
 * predicted probability and observed rate. */
export function CalibrationTable({ bins, firstHeader, name, t, locale }) {
  return (
    <div class="table-wrap">
      <table class={`rows ${name}`}>
        <thead>
          <tr>
            <th scope="col">{firstHeader}</th>
            <th scope="col" class="num">
              {t.rowsLabel} <span class="unit">({t.units.count})</span>
            </th>
            <th scope="col" class="num">{t.meanPredicted}</th>
            <th scope="col" class="num">{t.observedRate}</th>
          </tr>
        </thead>
        <tbody>
          {bins.map((bin) => (
            <tr>
              <td>{bin.label}</td>
              <td class="num">{formatValue(bin.rows, "count", locale, t)}</td>
              <td class="num">{formatValue(bin.predicted, "ratio", locale, t)}</td>
              <td class="num">{formatValue(bin.observed, "ratio", locale, t)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
