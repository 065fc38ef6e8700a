// Every number with its unit, as the API's columns[].unit names it, in the chosen locale.
const CURRENCY = /^[A-Z]{3}$/;
const cache = new Map();

function formatter(kind, locale, options) {
  const key = `${kind}|${locale}|${JSON.stringify(options)}`;
  if (!cache.has(key)) {
    const make = kind === "date" ? Intl.DateTimeFormat : Intl.NumberFormat;
    cache.set(key, new make(locale, options));
  }
  return cache.get(key);
}

/** A calendar day (YYYY-MM-DD) as the locale writes it: 03/01/2026 or 01.03.2026. */
export function formatDay(day, locale) {
  const options = { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "UTC" };
  return formatter("date", locale, options).format(new Date(`${day}T00:00:00Z`));
}

/** An instant (ISO 8601) in the language's time zone, which is named: 03.12.2026, 06:00 MEZ. */
export function formatTime(instant, locale, timeZone) {
  const options = {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    timeZone,
    timeZoneName: "short",
  };
  return formatter("date", locale, options).format(new Date(instant));
}

export function formatMoney(value, currency, locale) {
  return formatter("number", locale, { style: "currency", currency }).format(value);
}

/** One cell: its unit decides (date, instant, count, a currency code, ratio, boolean, id, anything else). */
export function formatValue(value, unit, locale, t, timeZone = "UTC") {
  if (value === null || value === undefined) return "–";
  if (unit === "date") return formatDay(value, locale);
  if (unit === "timestamp") return formatTime(value, locale, timeZone);
  if (unit === "id") return String(value); // a name, not an amount: no grouping
  if (unit === "boolean") return value ? t.yes : t.no;
  if (unit === "count") return formatter("number", locale, {}).format(value);
  if (unit === "seconds") return formatter("number", locale, { maximumFractionDigits: 1 }).format(value);
  if (unit === "ratio") return formatter("number", locale, { style: "percent", maximumFractionDigits: 2 }).format(value);
  if (CURRENCY.test(unit)) return formatMoney(value, unit, locale);
  if (typeof value === "number") return formatter("number", locale, { maximumFractionDigits: 4 }).format(value);
  return String(value);
}

/** How a column's unit is shown next to its name: (USD), (count); none for dates and text. */
export function unitLabel(unit, t) {
  return ["date", "text", "boolean", "id", "timestamp"].includes(unit) ? "" : ` (${t.units[unit] ?? unit})`;
}

/** A measured number whose unit the API does not name (a validation gate's): whole numbers
 * grouped, others to 6 significant digits, so a p-value of 1e-9 does not show as 0. */
export function formatMeasure(value, locale) {
  const options = Number.isInteger(value) ? {} : { maximumSignificantDigits: 6 };
  return formatter("number", locale, options).format(value);
}
