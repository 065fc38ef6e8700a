// A number typed as the page's language writes it: 0,05 and 1.500 on the German page, 0.05 and
// 1,500 on the English one. <input type=number> follows the browser's locale, not the page's, so
// the calculator's fields are text fields read here.

const separators = (locale) => (locale.startsWith("de") ? { decimal: ",", group: "." } : { decimal: ".", group: "," });
const escape = (c) => `\\${c}`;
const PLAIN = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** The number, or NaN when the text is none. The other language's decimal point is read as one
 * when it cannot be a thousands separator, so 0.05 typed on the German page is still 0.05. */
export function parseNumber(text, locale) {
  const { decimal, group } = separators(locale);
  let s = text.trim();
  const grouped = new RegExp(`^-?\\d{1,3}(${escape(group)}\\d{3})+(${escape(decimal)}\\d*)?$`);
  if (grouped.test(s)) s = s.split(group).join("");
  else if (!s.includes(decimal) && s.split(group).length === 2) s = s.replace(group, decimal);
  s = s.replace(decimal, ".");
  return PLAIN.test(s) ? Number(s) : NaN;
}

/** A number as a field of this page's language shows it (no thousands separators). */
export function showNumber(value, locale) {
  const text = String(value);
  return locale.startsWith("de") ? text.replace(".", ",") : text;
}
