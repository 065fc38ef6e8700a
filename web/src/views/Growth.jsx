// Month-over-month growth (GET /kpi/mom_growth); partial months only when asked for, and marked.
import { useState } from "preact/hooks";
import { KpiRows } from "./KpiRows.jsx";

const PATH = "/kpi/mom_growth";

export function Growth({ t, locale, timeZone }) {
  const [includePartial, setIncludePartial] = useState(false);
  return (
    <section aria-labelledby="growth-title">
      <h2 id="growth-title">{t.growthTitle}</h2>
      <form class="pickers" onSubmit={(e) => e.preventDefault()}>
        <label class="inline">
          <input
            type="checkbox"
            name="include_partial"
            checked={includePartial}
            onChange={(e) => setIncludePartial(e.currentTarget.checked)}
          />
          {t.includePartial}
        </label>
      </form>
      <KpiRows path={PATH} params={{ include_partial: includePartial }} t={t} locale={locale} timeZone={timeZone} />
    </section>
  );
}
