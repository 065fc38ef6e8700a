// The funnel by traffic source (GET /kpi/funnel) over a date range: each step's rate as grouped
// bars, and the rows.
import { useState } from "preact/hooks";
import { BarChart } from "../chart.jsx";
import { DateInput } from "../DateInput.jsx";
import { formatDay, formatValue } from "../format.js";
import { KpiRows } from "./KpiRows.jsx";

const PATH = "/kpi/funnel";
const RATES = [
  "home_to_department_rate",
  "department_to_product_rate",
  "product_to_cart_rate",
  "cart_to_purchase_rate",
  "session_conversion_rate",
];

export function Funnel({ t, locale, timeZone }) {
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const above = ({ columns, rows, meta }) => {
    const at = Object.fromEntries(columns.map((c, i) => [c.name, i]));
    const range = meta?.date_range;
    return (
      <>
        {range && (
          <p class="covers">
            {t.covers}: <span data-testid="covers">{formatDay(range.start, locale)} – {formatDay(range.end, locale)}</span>
          </p>
        )}
        <BarChart
          label={t.funnelTitle}
          labels={RATES.map((r) => t.columns[r])}
          series={rows.map((row) => ({ label: row[at.traffic_source], values: RATES.map((r) => row[at[r]]) }))}
          format={(v) => formatValue(v, "ratio", locale, t)}
        />
      </>
    );
  };
  return (
    <section aria-labelledby="funnel-title">
      <h2 id="funnel-title">{t.funnelTitle}</h2>
      <form class="pickers" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t.from}
          <DateInput name="funnel-start" value={start} onChange={setStart} locale={locale} t={t} />
        </label>
        <label>
          {t.to}
          <DateInput name="funnel-end" value={end} onChange={setEnd} locale={locale} t={t} />
        </label>
      </form>
      <KpiRows path={PATH} params={{ start, end }} t={t} locale={locale} timeZone={timeZone} above={above} />
    </section>
  );
}
