// The read-outs the API adds when asked or present: the sequential (always-valid) one, the
// Bayesian one, and the guardrails.
import { formatValue } from "../format.js";
import { formatEffect, formatP, formatShare, metricUnit, testedEffect } from "./effects.js";
import { Interval } from "./ResultsTable.jsx";

function Name({ comparison, t }) {
  return (
    <>
      <td>{t.metrics[comparison.metric] ?? comparison.metric}</td>
      <td><code>{comparison.variant}</code></td>
    </>
  );
}

export function SequentialReadOut({ analysis, t, locale }) {
  const tuning = analysis.options.sequential?.tuning;
  return (
    <p class="note" data-sequential>
      {t.sequentialNote(formatValue(tuning, "count", locale, t))}{" "}
      {analysis.comparisons.map((c) => `${t.metrics[c.metric] ?? c.metric}: ${c.method}`).join(" · ")}
    </p>
  );
}

export function BayesianReadOut({ analysis, currency, t, locale }) {
  const model = analysis.options.bayesian.model;
  return (
    <div class="table-wrap">
      <p class="note">{t.bayesianNote(t.bayesianModels[model])}</p>
      <table class="rows bayesian">
        <thead>
          <tr>
            <th scope="col">{t.metric}</th>
            <th scope="col">{t.variant}</th>
            <th scope="col" class="num">{t.chanceToBeat}</th>
            <th scope="col" class="num">{t.expectedLoss}</th>
            <th scope="col" class="num">{t.expectedLossControl}</th>
            <th scope="col" class="num">{t.credibleInterval}</th>
          </tr>
        </thead>
        <tbody>
          {analysis.comparisons.map((c) => {
            const unit = metricUnit(c, currency);
            const b = c.bayesian;
            return (
              <tr data-row={`${c.metric}:${c.variant}`}>
                <Name comparison={c} t={t} />
                <td class="num" data-column="chance_to_beat_control">{formatShare(b.chance_to_beat_control, locale, t)}</td>
                <td class="num" data-column="expected_loss">{formatEffect(b.expected_loss, c, unit, locale, t, "auto")}</td>
                <td class="num" data-column="expected_loss_control">{formatEffect(b.expected_loss_control, c, unit, locale, t, "auto")}</td>
                <td class="num" data-column="credible_interval">
                  <Interval comparison={c} interval={b.credible_interval} unit={unit} locale={locale} t={t} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Guardrail metrics: may the treatment make them worse, and by how much at most (the margin). */
export function Guardrails({ guardrails, currency, t, locale }) {
  return (
    <div class="table-wrap">
      <table class="rows guardrails">
        <thead>
          <tr>
            <th scope="col">{t.metric}</th>
            <th scope="col">{t.variant}</th>
            <th scope="col">{t.direction}</th>
            <th scope="col" class="num">{t.margin}</th>
            <th scope="col" class="num">{t.lift}</th>
            <th scope="col" class="num">{t.interval}</th>
            <th scope="col" class="num">{t.pValueAdjusted}</th>
          </tr>
        </thead>
        <tbody>
          {guardrails.map((c) => {
            const unit = metricUnit(c, currency);
            const effect = testedEffect(c);
            return (
              <tr data-row={`${c.metric}:${c.variant}`}>
                <Name comparison={c} t={t} />
                <td>{t.directions[c.direction]}</td>
                <td class="num">{formatShare(c.margin, locale, t)}</td>
                <td class="num">{formatEffect(effect.estimate, c, unit, locale, t)}</td>
                <td class="num">
                  <Interval comparison={c} interval={effect.ci} unit={unit} locale={locale} t={t} />
                </td>
                <td class="num">{formatP(c.p_value_adjusted, locale)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
