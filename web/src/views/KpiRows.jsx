// One KPI answer as a table with its downloads, in its loading, empty and error states.
import { Downloads, RowsTable } from "./KpiTable.jsx";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

/** `above(answer)` draws what goes over the downloads (a chart); `Table` replaces the row table. */
export function KpiRows({ path, params = {}, t, locale, timeZone, above, Table = RowsTable }) {
  const state = useApi(path, params);
  const answer = state.data;
  const rows = answer?.rows ?? [];
  return (
    <>
      <Status state={{ ...state, empty: answer && rows.length === 0 }} t={t} emptyText={t.empty} />
      {answer && rows.length > 0 && (
        <>
          {above?.(answer)}
          <Downloads path={path} params={params} t={t} locale={locale} />
          <Table columns={answer.columns} rows={rows} t={t} locale={locale} timeZone={timeZone} />
        </>
      )}
    </>
  );
}
