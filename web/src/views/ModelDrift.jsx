// The champion's drift (GET /ml/latest's `drift`): PSI of each feature and of the score between
// its training rows and the latest snapshot, judged against the validation gate's two levels,
// and its calibration by score decile on that snapshot. Null until a validated build measured it.
import { formatDay, formatMeasure, formatTime, formatValue } from "../format.js";
import { CalibrationTable } from "./ModelPlots.jsx";

function level(psi, drift) {
  if (psi >= drift.block) return "block";
  return psi >= drift.warn ? "warn" : "ok";
}

/** The features (and the score) a level names, in the page's language. */
function named(names, t) {
  return names.map((name) => (name === "score" ? t.driftScore : name)).join(", ");
}

function PsiRow({ name, psi, drift, t, locale }) {
  const judged = level(psi, drift);
  return (
    <tr data-psi={name}>
      <td>{name}</td>
      <td class="num">{formatMeasure(psi, locale)}</td>
      <td>
        <span class={`badge drift-${judged}`}>{t.driftLevels[judged]}</span>
      </td>
    </tr>
  );
}

export function Drift({ drift, t, locale, timeZone }) {
  if (!drift) return <p class="empty" data-drift="none">{t.driftNotMeasured}</p>;
  const features = Object.entries(drift.psi).sort(([, a], [, b]) => b - a);
  const day = (value) => (value ? formatDay(value, locale) : "–");
  const [first, last] = drift.reference.snapshot_dates;
  return (
    <div data-drift={drift.level}>
      <p>
        {t.driftSnapshot(day(drift.snapshot), formatValue(drift.rows, "count", locale, t))}{" "}
        {t.driftReference(day(first), day(last), formatValue(drift.reference.rows, "count", locale, t))}{" "}
        {t.driftMeasured(drift.run_id, formatTime(drift.measured_at, locale, timeZone))}
      </p>
      <p class="note">{t.driftLevelsRule(formatMeasure(drift.warn, locale), formatMeasure(drift.block, locale))}</p>
      <p data-drift-verdict>
        <span class={`badge drift-${drift.level}`}>{t.driftLevels[drift.level]}</span>{" "}
        {t.driftVerdict[drift.level](named(drift.blocking, t), named(drift.warning, t))}
      </p>
      <div class="table-wrap">
        <table class="rows drift">
          <thead>
            <tr>
              <th scope="col">{t.feature}</th>
              <th scope="col" class="num">PSI</th>
              <th scope="col">{t.driftLevel}</th>
            </tr>
          </thead>
          <tbody>
            <PsiRow name={t.driftScore} psi={drift.score.psi} drift={drift} t={t} locale={locale} />
            {features.map(([name, psi]) => (
              <PsiRow name={name} psi={psi} drift={drift} t={t} locale={locale} />
            ))}
          </tbody>
        </table>
      </div>
      <h4>{t.driftCalibration(day(drift.calibration.snapshot))}</h4>
      <CalibrationTable
        name="drift-calibration"
        firstHeader={t.decile}
        bins={drift.calibration.deciles.map((bin) => ({
          label: bin.decile,
          rows: bin.rows,
          predicted: bin.mean_score,
          observed: bin.observed_rate,
        }))}
        t={t}
        locale={locale}
      />
    </div>
  );
}
