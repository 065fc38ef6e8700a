// How many users per arm, and how many days, a conversion-rate experiment needs (POST /ab/power).
import { useState } from "preact/hooks";
import { postJson } from "../api.js";
import { formatValue } from "../format.js";
import { Status } from "./Status.jsx";

// The API's documented example (AbPowerSampleSizeRequest) with its default alpha and power.
const START = { baseline: "0.1", mde: "0.05", alpha: "0.05", power: "0.8", daily_traffic: "5000" };
const FIELDS = Object.keys(START);

export function PowerCalculator({ t, locale }) {
  const [form, setForm] = useState(START);
  const [state, setState] = useState({ loading: false, data: null, error: null, field: null });
  const submit = (event) => {
    event.preventDefault();
    // Numbers go as typed (an empty field is left out); the API alone judges their ranges and
    // names the field it refuses.
    const body = Object.fromEntries(FIELDS.filter((f) => form[f] !== "").map((f) => [f, Number(form[f])]));
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
              type="number"
              name={f}
              step="any"
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
