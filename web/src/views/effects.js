// How the results page writes an experiment's numbers: each metric's mean in its unit, each lift
// on the scale the API tested it on, p-values as the API's own summaries write them.
import { formatValue } from "../format.js";

// The stored experiments' metrics (GET /ab/experiments/{id}?format=csv names the same units):
// conversion is a rate, revenue_per_user money in the shop's currency.
const METRIC_UNITS = { revenue_per_user: "currency" };

/** The unit of a comparison's means and absolute lift: ratio, a currency code, or a plain number. */
export function metricUnit(comparison, currency) {
  if (comparison.kind === "proportion") return "ratio";
  return METRIC_UNITS[comparison.metric] === "currency" && currency ? currency : "number";
}

/** The block whose interval inverts the comparison's test: the relative or the absolute lift. */
export function testedEffect(comparison) {
  return comparison[comparison.scale];
}

/** A lift or bound on the comparison's scale: +13.91 % (relative), +4.02 pp (a rate's difference),
 * +$7.79 (money), +0.5 (anything else); ``signDisplay`` "auto" for amounts that are never
 * negative (an expected loss). */
export function formatEffect(value, comparison, unit, locale, t, signDisplay = "exceptZero") {
  if (value === null || value === undefined) return "–";
  const signed = (options) => new Intl.NumberFormat(locale, { signDisplay, ...options });
  if (comparison.scale === "relative") return signed({ style: "percent", minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
  if (unit === "ratio") return `${signed({ minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value * 100)}\u00a0${t.percentPoints}`;
  if (unit === "number") return signed({ maximumFractionDigits: 4 }).format(value);
  return signed({ style: "currency", currency: unit }).format(value);
}

/** A mean in its unit: a rate as a percentage with two decimals, money in its currency. */
export function formatMean(value, unit, locale, t) {
  if (unit === "ratio" && value != null) {
    return new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
  }
  return formatValue(value, unit === "number" ? "score" : unit, locale, t);
}

/** A p-value as the API's summaries write it: three decimals, or "< 0.001". */
export function formatP(p, locale) {
  if (p === null || p === undefined) return "–";
  const three = new Intl.NumberFormat(locale, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
  return p < 0.001 ? `<\u00a0${three.format(0.001)}` : three.format(p);
}

/** p as a clause of a sentence: "p = 0.042", "p < 0.001". */
export function formatPClause(p, locale) {
  const text = formatP(p, locale);
  return text.startsWith("<") ? `p\u00a0${text}` : `p\u00a0=\u00a0${text}`;
}

/** A probability or confidence level as a percentage with up to two decimals (95 %, 97.39 %). */
export function formatShare(value, locale, t) {
  return formatValue(value, "ratio", locale, t);
}
