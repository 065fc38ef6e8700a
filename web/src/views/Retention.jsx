// Retention cohorts (GET /kpi/retention) by week or month: a cohort × period table shaded by rate
// (Chart.js has no matrix chart; a shaded table shows the same and reads exactly).
import { useState } from "preact/hooks";
import { formatDay, formatValue, unitLabel } from "../format.js";
import { KpiRows } from "./KpiRows.jsx";

const PATH = "/kpi/retention";
const GRAINS = ["week", "month"];

function shade(rate) {
  return { background: `rgba(36, 87, 166, ${rate})`, color: rate > 0.5 ? "#fff" : undefined };
}

function CohortTable({ columns, rows, t, locale }) {
  const at = Object.fromEntries(columns.map((c, i) => [c.name, i]));
  const periods = [...new Set(rows.map((r) => r[at.periods_since_signup]))].sort((a, b) => a - b);
  const cohorts = new Map();
  for (const row of rows) {
    const cohort = cohorts.get(row[at.cohort]) ?? { size: row[at.cohort_size], rates: new Map() };
    cohort.rates.set(row[at.periods_since_signup], row[at.retention_rate]);
    cohorts.set(row[at.cohort], cohort);
  }
  return (
    <div class="table-wrap">
      <table class="rows cohorts">
        <thead>
          <tr>
            <th scope="col">{t.columns.cohort}</th>
            <th scope="col" class="num">
              {t.columns.cohort_size}
              <span class="unit">{unitLabel("count", t)}</span>
            </th>
            {periods.map((p) => (
              <th scope="col" class="num">
                {p}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[...cohorts].map(([cohort, { size, rates }]) => (
            <tr data-cohort={cohort}>
              <th scope="row">{formatDay(cohort, locale)}</th>
              <td class="num" data-column="cohort_size">{formatValue(size, "count", locale, t)}</td>
              {periods.map((p) => {
                const rate = rates.get(p);
                return (
                  <td class="num" data-period={p} data-rate={rate ?? undefined} style={rate == null ? undefined : shade(rate)}>
                    {formatValue(rate, "ratio", locale, t)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Retention({ t, locale, timeZone }) {
  const [grain, setGrain] = useState("week");
  return (
    <section aria-labelledby="retention-title">
      <h2 id="retention-title">{t.retentionTitle}</h2>
      <form class="pickers" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t.grain}
          <select name="retention-grain" value={grain} onChange={(e) => setGrain(e.currentTarget.value)}>
            {GRAINS.map((g) => (
              <option value={g}>{t[g]}</option>
            ))}
          </select>
        </label>
      </form>
      <p class="note">{t.retentionNote}</p>
      <KpiRows path={PATH} params={{ grain }} t={t} locale={locale} timeZone={timeZone} Table={CohortTable} />
    </section>
  );
}
