// Revenue, orders and AOV over time (GET /kpi/revenue), its rows, and their downloads.
import { useMemo, useState } from "preact/hooks";
import { LineChart } from "../chart.jsx";
import { DateInput } from "../DateInput.jsx";
import { formatDay, formatValue, unitLabel } from "../format.js";
import { Downloads, RowsTable } from "./KpiTable.jsx";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

const PATH = "/kpi/revenue";
const GRAINS = ["day", "week", "month"];
const METRICS = ["revenue", "orders", "aov"];

export function Revenue({ t, locale }) {
  const [grain, setGrain] = useState("week");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [metric, setMetric] = useState("revenue");
  const params = { grain, start, end };
  const state = useApi(PATH, params);
  const answer = state.data;
  const rows = answer?.rows ?? [];
  const columns = answer?.columns ?? [];
  const at = Object.fromEntries(columns.map((c, i) => [c.name, i]));
  const unitOf = (name) => columns[at[name]]?.unit;

  const series = useMemo(
    () =>
      answer && {
        labels: rows.map((r) => formatDay(r[at.period], locale)),
        values: rows.map((r) => r[at[metric]]),
        partial: rows.map((r) => !r[at.complete]),
        format: (v) => formatValue(v, unitOf(metric), locale, t),
      },
    [answer, metric, locale],
  );
  const latest = [...rows].reverse().find((r) => r[at.complete]);

  return (
    <section aria-labelledby="kpi-title">
      <h2 id="kpi-title">{t.revenueOverTime}</h2>
      <form class="pickers" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t.grain}
          <select name="grain" value={grain} onChange={(e) => setGrain(e.currentTarget.value)}>
            {GRAINS.map((g) => (
              <option value={g}>{t[g]}</option>
            ))}
          </select>
        </label>
        <label>
          {t.from}
          <DateInput name="start" value={start} onChange={setStart} locale={locale} t={t} />
        </label>
        <label>
          {t.to}
          <DateInput name="end" value={end} onChange={setEnd} locale={locale} t={t} />
        </label>
        <label>
          {t.metric}
          <select name="metric" value={metric} onChange={(e) => setMetric(e.currentTarget.value)}>
            {METRICS.map((m) => (
              <option value={m}>{t.columns[m]}</option>
            ))}
          </select>
        </label>
      </form>
      <Status state={{ ...state, empty: answer && rows.length === 0 }} t={t} emptyText={t.empty} />
      {answer && rows.length > 0 && (
        <>
          <p class="covers">
            {t.covers}: <span data-testid="covers">{formatDay(answer.meta.date_range.start, locale)} – {formatDay(answer.meta.date_range.end, locale)}</span>
          </p>
          {latest && (
            <div class="cards" aria-label={t.latest}>
              {METRICS.map((m) => (
                <div class="card" data-card={m}>
                  <span class="card-label">
                    {t.columns[m]}
                    {unitLabel(unitOf(m), t)}
                  </span>
                  <span class="card-value">{formatValue(latest[at[m]], unitOf(m), locale, t)}</span>
                  <span class="card-period">{formatDay(latest[at.period], locale)}</span>
                </div>
              ))}
            </div>
          )}
          <LineChart label={t.columns[metric]} {...series} />
          <p class="note">{t.partialNote}</p>
          <Downloads path={PATH} params={params} t={t} locale={locale} />
          <RowsTable columns={columns} rows={rows} t={t} locale={locale} />
        </>
      )}
    </section>
  );
}
