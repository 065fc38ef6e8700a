// What every KPI table shows the same way: its rows with units, and the CSV/XLSX downloads of them.
import { useState } from "preact/hooks";
import { download } from "../api.js";
import { formatValue, unitLabel } from "../format.js";

const LEFT = ["date", "boolean", "text", "id", "timestamp"];
const align = (unit) => (LEFT.includes(unit) ? "" : "num");

/** The API's own file of the KPI answer shown, in the page's language. */
export function Downloads({ path, params, t, locale }) {
  const [error, setError] = useState(null);
  const save = (format) => {
    setError(null);
    download(path, { ...params, format, locale }).catch((e) => setError(e.message));
  };
  return (
    <div class="downloads">
      {t.download}:
      <button type="button" data-format="csv" onClick={() => save("csv")}>CSV</button>
      <button type="button" data-format="xlsx" onClick={() => save("xlsx")}>XLSX</button>
      {error && <span class="status error" role="alert">{error}</span>}
    </div>
  );
}

/** One row per API row; a row whose `complete` cell is false is marked partial. */
export function RowsTable({ columns, rows, t, locale, timeZone }) {
  const completeAt = columns.findIndex((c) => c.name === "complete");
  return (
    <div class="table-wrap">
      <table class="rows">
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" class={align(c.unit)}>
                {t.columns[c.name] ?? c.name}
                <span class="unit">{unitLabel(c.unit, t)}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr class={completeAt >= 0 && !row[completeAt] ? "partial" : ""}>
              {columns.map((c, i) => (
                <td data-column={c.name} class={align(c.unit)}>
                  {formatValue(row[i], c.unit, locale, t, timeZone)}
                  {i === completeAt && !row[i] && <span class="badge">{t.partial}</span>}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
