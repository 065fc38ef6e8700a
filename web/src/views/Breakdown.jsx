// One analysis per value of a user dimension (POST /ab/breakdown): exploratory, so no decision,
// and p-values adjusted across the values.
import { useState } from "preact/hooks";
import { formatValue } from "../format.js";
import { formatEffect, formatP, metricUnit, testedEffect } from "./effects.js";
import { GuardrailBadge } from "./GuardrailBadge.jsx";
import { Interval } from "./ResultsTable.jsx";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

// AbBreakdownRequest.dimension; the first is the default, whose answer the offline snapshot
// embeds (scripts/local/snapshot.py breakdown_body).
const DIMENSIONS = ["browser", "traffic_source", "country"];

function ValueRows({ value, currency, t, locale }) {
  return value.comparisons.map((c, i) => {
    const unit = metricUnit(c, currency);
    const effect = testedEffect(c);
    return (
      <tr data-value={value.dimension_value} class={c.significant_across_values ? "significant" : ""}>
        {i === 0 && (
          <>
            <th scope="rowgroup" rowspan={value.comparisons.length}>{value.dimension_value}</th>
            <td class="num" rowspan={value.comparisons.length} data-column="units">
              {formatValue(value.units, "count", locale, t)}
            </td>
            <td class="num" rowspan={value.comparisons.length} data-column="srm_p">
              {formatP(value.srm.p_value, locale)}
              {!value.srm.passed && <span class="badge srm-badge">SRM</span>}
            </td>
          </>
        )}
        <td>
          {t.metrics[c.metric] ?? c.metric}
          {c.guardrail_verdict && <GuardrailBadge verdict={c.guardrail_verdict} t={t} />}
        </td>
        <td><code>{c.variant}</code></td>
        <td class="num" data-column="lift">{formatEffect(effect.estimate, c, unit, locale, t)}</td>
        <td class="num" data-column="ci">
          <Interval comparison={c} interval={effect.ci} unit={unit} locale={locale} t={t} />
        </td>
        <td class="num" data-column="p_value">{formatP(c.p_value, locale)}</td>
        <td class="num" data-column="p_value_across_values">{formatP(c.p_value_across_values, locale)}</td>
      </tr>
    );
  });
}

/** ``options``: the page's analysis options; the Bayesian read-out is left out, as not shown here. */
export function Breakdown({ experimentId, options, currency, t, locale }) {
  const [dimension, setDimension] = useState(DIMENSIONS[0]);
  const body = { experiment_id: experimentId, dimension, options: { ...options, bayesian: false } };
  const state = useApi("/ab/breakdown", {}, body);
  const answer = state.data;
  return (
    <>
      <form class="pickers" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t.dimension}
          <select name="dimension" value={dimension} onChange={(e) => setDimension(e.currentTarget.value)}>
            {DIMENSIONS.map((d) => (
              <option value={d}>{t.dimensions[d]}</option>
            ))}
          </select>
        </label>
      </form>
      <Status state={{ ...state, empty: answer && answer.values.length === 0 }} t={t} emptyText={t.noBreakdown} />
      {answer && answer.values.length > 0 && (
        <>
          <p class="note" data-warning>{answer.warning}</p>
          <div class="table-wrap">
            <table class="rows breakdown">
              <thead>
                <tr>
                  <th scope="col">{t.dimensions[answer.dimension]}</th>
                  <th scope="col" class="num">{t.exposedUsers} <span class="unit">({t.units.count})</span></th>
                  <th scope="col" class="num">{t.srmP}</th>
                  <th scope="col">{t.metric}</th>
                  <th scope="col">{t.variant}</th>
                  <th scope="col" class="num">{t.lift} <span class="unit">({t.scales[answer.options.scale]})</span></th>
                  <th scope="col" class="num">{t.interval}</th>
                  <th scope="col" class="num">{t.pValue}</th>
                  <th scope="col" class="num">{t.pValueAcross} <span class="unit">({answer.correction_across_values})</span></th>
                </tr>
              </thead>
              <tbody>
                {answer.values.map((value) => (
                  <ValueRows value={value} currency={currency} t={t} locale={locale} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
