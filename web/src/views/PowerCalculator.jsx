// How many users per arm, and how many days, a conversion-rate experiment needs (POST /ab/power).
import { useEffect, useRef, useState } from "preact/hooks";
import { postJson } from "../api.js";
import { formatValue } from "../format.js";
import { parseNumber, showNumber } from "../numberText.js";
import { Status } from "./Status.jsx";

// The API's documented example (AbPowerSampleSizeRequest) with its default alpha and power.
const START = { baseline: 0.1, mde: 0.05, alpha: 0.05, power: 0.8, daily_traffic: 5000 };
const FIELDS = Object.keys(START);

/** What is sent for a field: its number, or the text itself when it is none, so that the API
 * names the field and the rule. */
const asSent = (text, locale) => {
  const number = parseNumber(text, locale);
  return Number.isNaN(number) ? text : number;
};

export function PowerCalculator({ t, locale }) {
  const [form, setForm] = useState(() => Object.fromEntries(FIELDS.map((f) => [f, showNumber(START[f], locale)])));
  const [state, setState] = useState({ loading: false, data: null, error: null, field: null });
  // A switch of language rewrites the typed numbers the new language's way (0.05 -> 0,05).
  const previous = useRef(locale);
  useEffect(() => {
    if (previous.current === locale) return;
    const from = previous.current;
    previous.current = locale;
    setForm((typed) =>
      Object.fromEntries(
        FIELDS.map((f) => {
          const number = parseNumber(typed[f], from);
          return [f, Number.isNaN(number) ? typed[f] : showNumber(number, locale)];
        }),
      ),
    );
  }, [locale]);
  const submit = (event) => {
    event.preventDefault();
    // The API alone judges the numbers' ranges and names the field it refuses; an empty field is
    // left out (the API's default).
    const filled = FIELDS.filter((f) => form[f].trim() !== "");
    const body = Object.fromEntries(filled.map((f) => [f, asSent(form[f], locale)]));
    setState({ loading: true, data: null, error: null, field: null });
    postJson("/ab/power", body)
      .then((data) => setState({ loading: false, data, error: null, field: null }))
      .catch((error) => setState({ loading: false, data: null, error: error.message, field: error.field }));
  };
  const answer = state.data;
  const card = (name, value, unit) => (
    <div class="card" data-power={name}>
      <span class="card-label">
        {t.powerResults[name]}
        {unit === "count" || unit === "days" ? ` (${t.units[unit]})` : ""}
      </span>
      <span class="card-value">{formatValue(value, unit === "days" ? "count" : unit, locale, t)}</span>
    </div>
  );
  return (
    <>
      <form class="power pickers" noValidate onSubmit={submit}>
        {FIELDS.map((f) => (
          <label title={t.powerHints[f]}>
            {t.powerFields[f]}
            <input
              type="text"
              inputMode="decimal"
              name={f}
              value={form[f]}
              aria-invalid={state.field === f ? "true" : undefined}
              onInput={(e) => setForm({ ...form, [f]: e.currentTarget.value })}
            />
          </label>
        ))}
        <button type="submit">{t.calculate}</button>
      </form>
      <Status state={state} t={t} />
      {answer && (
        <div class="cards">
          {card("n_per_arm", answer.n_per_arm, "count")}
          {card("total", answer.total, "count")}
          {answer.days != null && card("days", answer.days, "days")}
          {card("power", answer.power, "ratio")}
          {answer.message && <p class="note">{answer.message}</p>}
        </div>
      )}
    </>
  );
}
