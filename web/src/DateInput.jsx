// A calendar day typed as the page's language writes it. The native <input type=date> follows
// the browser's locale, not the page's (a German page in an English browser shows mm/dd/yyyy),
// so this is a text field: DD.MM.YYYY in German, YYYY-MM-DD (or MM/DD/YYYY) in English.
import { useEffect, useRef, useState } from "preact/hooks";

const GERMAN = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;
const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** The ISO day (YYYY-MM-DD) of what was typed, or null when it names no calendar day. */
export function parseDay(text, locale) {
  const german = locale.startsWith("de");
  let match;
  let year, month, day;
  if (german && (match = GERMAN.exec(text))) [, day, month, year] = match;
  else if ((match = ISO.exec(text))) [, year, month, day] = match;
  else if (!german && (match = US.exec(text))) [, month, day, year] = match;
  else return null;
  const date = new Date(Date.UTC(+year, +month - 1, +day));
  // Date.UTC rolls 31.02. over into March: only a day that reads back unchanged is real.
  if (date.getUTCFullYear() !== +year || date.getUTCMonth() !== +month - 1 || date.getUTCDate() !== +day) return null;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** An empty field is no day asked for (""); anything else must be a day (else null). */
const dayOf = (text, locale) => (text.trim() === "" ? "" : parseDay(text.trim(), locale));

/** An ISO day as this field shows it: 01.03.2026 in German, 2026-03-01 in English. */
export function showDay(iso, locale) {
  if (!iso) return "";
  const [year, month, day] = iso.split("-");
  return locale.startsWith("de") ? `${day}.${month}.${year}` : iso;
}

/** `value` and `onChange` carry ISO days ("" for none); text that is no day is marked invalid
 * and not passed on, so a view only ever asks the API with a real date. */
export function DateInput({ name, value, onChange, locale, t }) {
  const [text, setText] = useState(() => showDay(value, locale));
  const [invalid, setInvalid] = useState(false);
  const shownIn = useRef(locale);
  // A new language, or a value set from outside, rewrites the field; what is being typed stays.
  useEffect(() => {
    if (shownIn.current !== locale || dayOf(text, locale) !== value) {
      shownIn.current = locale;
      setText(showDay(value, locale));
      setInvalid(false);
    }
  }, [value, locale]);
  const typed = (next) => {
    setText(next);
    const day = dayOf(next, locale);
    setInvalid(day === null);
    if (day !== null && day !== value) onChange(day);
  };
  const pattern = t.datePattern;
  return (
    <>
      <input
        type="text"
        inputmode="numeric"
        autocomplete="off"
        class="date-input"
        name={name}
        value={text}
        placeholder={pattern}
        size={pattern.length}
        aria-invalid={invalid ? "true" : undefined}
        title={invalid ? `${t.dateInvalid} ${pattern}` : pattern}
        onInput={(e) => typed(e.currentTarget.value)}
      />
      {invalid && (
        <span class="field-error" role="alert">
          {t.dateInvalid} {pattern}
        </span>
      )}
    </>
  );
}
