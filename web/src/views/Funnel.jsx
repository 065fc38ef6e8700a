// The funnel by traffic source (GET /kpi/funnel): each step's rate as grouped bars, and the rows.
import { BarChart } from "../chart.jsx";
import { formatValue } from "../format.js";
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
  const chart = ({ columns, rows }) => {
    const at = Object.fromEntries(columns.map((c, i) => [c.name, i]));
    return (
      <BarChart
        label={t.funnelTitle}
        labels={RATES.map((r) => t.columns[r])}
        series={rows.map((row) => ({ label: row[at.traffic_source], values: RATES.map((r) => row[at[r]]) }))}
        format={(v) => formatValue(v, "ratio", locale, t)}
      />
    );
  };
  return (
    <section aria-labelledby="funnel-title">
      <h2 id="funnel-title">{t.funnelTitle}</h2>
      <KpiRows path={PATH} t={t} locale={locale} timeZone={timeZone} above={chart} />
    </section>
  );
}
