// The KPIs page: one KPI at a time, picked from its sub-tabs.
import { useState } from "preact/hooks";
import { Funnel } from "./Funnel.jsx";
import { Growth } from "./Growth.jsx";
import { KpiRows } from "./KpiRows.jsx";
import { Retention } from "./Retention.jsx";
import { Revenue } from "./Revenue.jsx";

/** A KPI shown as its titled table, nothing more. */
const tableOf = (name) =>
  function KpiTableView({ t, locale, timeZone }) {
    return (
      <section aria-label={t.kpiPages[name]}>
        <h2>{t.kpiPages[name]}</h2>
        <KpiRows path={`/kpi/${name}`} t={t} locale={locale} timeZone={timeZone} />
      </section>
    );
  };

const PAGES = {
  revenue: Revenue,
  funnel: Funnel,
  retention: Retention,
  mom_growth: Growth,
  customer_ltv: tableOf("customer_ltv"),
  rfm_segments: tableOf("rfm_segments"),
  channel_performance: tableOf("channel_performance"),
};

export function Kpis(props) {
  const [page, setPage] = useState("revenue");
  const Page = PAGES[page];
  return (
    <>
      <div class="subtabs" role="group" aria-label={props.t.kpis}>
        {Object.keys(PAGES).map((name) => (
          <button type="button" data-kpi={name} aria-pressed={name === page} onClick={() => setPage(name)}>
            {props.t.kpiPages[name]}
          </button>
        ))}
      </div>
      <Page {...props} />
    </>
  );
}
