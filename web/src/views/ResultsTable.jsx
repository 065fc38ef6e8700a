// The numbers of every metric and variant: the control's row, then each treatment's comparison.
import { formatValue } from "../format.js";
import { formatEffect, formatMean, formatP, formatShare, metricUnit, testedEffect } from "./effects.js";

/** The interval as low – high, each bound in its own element; one dash when it is undefined. */
export function Interval({ comparison, interval, unit, locale, t }) {
  const [low, high] = interval;
  if (low == null && high == null) return "–";
  return (
    <>
      <span data-bound="low">{formatEffect(low, comparison, unit, locale, t)}</span> –{" "}
      <span data-bound="high">{formatEffect(high, comparison, unit, locale, t)}</span>
    </>
  );
}

function ControlRow({ metric, control, unit, t, locale }) {
  return (
    <tr data-row={`${metric}:${control.name}`} class="control">
      <td>{t.metrics[metric] ?? metric}</td>
      <td><code>{control.name}</code></td>
      <td class="num" data-column="n">{formatValue(control.n, "count", locale, t)}</td>
      <td class="num" data-column="mean">{formatMean(control.mean, unit, locale, t)}</td>
      <td colspan="6" class="note">{t.controlRow}</td>
    </tr>
  );
}

function ComparisonRow({ comparison, verdict, unit, t, locale }) {
  const effect = testedEffect(comparison);
  return (
    <tr data-row={`${comparison.metric}:${comparison.variant}`} class={comparison.significant ? "significant" : ""}>
      <td>{t.metrics[comparison.metric] ?? comparison.metric}</td>
      <td><code>{comparison.variant}</code></td>
      <td class="num" data-column="n">{formatValue(comparison.treatment.n, "count", locale, t)}</td>
      <td class="num" data-column="mean">{formatMean(comparison.treatment.mean, unit, locale, t)}</td>
      <td class="num" data-column="lift">{formatEffect(effect.estimate, comparison, unit, locale, t)}</td>
      <td class="num" data-column="ci">
        <Interval comparison={comparison} interval={effect.ci} unit={unit} locale={locale} t={t} />{" "}
        <span class="unit">({formatShare(comparison.ci_level, locale, t)})</span>
      </td>
      <td class="num" data-column="p_value">{formatP(comparison.p_value, locale)}</td>
      <td class="num" data-column="p_value_adjusted">{formatP(comparison.p_value_adjusted, locale)}</td>
      <td class="num" data-column="chance_to_beat_control">
        {formatShare(comparison.bayesian?.chance_to_beat_control, locale, t)}
      </td>
      <td data-column="verdict">{verdict ? t.verdicts[verdict] : "–"}</td>
    </tr>
  );
}

export function ResultsTable({ analysis, currency, t, locale }) {
  const verdicts = Object.fromEntries(analysis.decisions.map((d) => [d.variant, d.verdict]));
  const metrics = [...new Set(analysis.comparisons.map((c) => c.metric))];
  const scale = analysis.options.scale;
  return (
    <div class="table-wrap">
      <table class="rows results">
        <thead>
          <tr>
            <th scope="col">{t.metric}</th>
            <th scope="col">{t.variant}</th>
            <th scope="col" class="num">n <span class="unit">({t.usersUnit})</span></th>
            <th scope="col" class="num">{t.mean}</th>
            <th scope="col" class="num">{t.lift} <span class="unit">({t.scales[scale]})</span></th>
            <th scope="col" class="num">{t.interval} <span class="unit">({t.level})</span></th>
            <th scope="col" class="num">{t.pValue}</th>
            <th scope="col" class="num">{t.pValueAdjusted} <span class="unit">({analysis.options.correction})</span></th>
            <th scope="col" class="num">{t.chanceToBeat}</th>
            <th scope="col">{t.verdict}</th>
          </tr>
        </thead>
        <tbody>
          {metrics.map((metric) => {
            const comparisons = analysis.comparisons.filter((c) => c.metric === metric);
            const unit = metricUnit(comparisons[0], currency);
            const control = { name: analysis.control, ...comparisons[0].control };
            return (
              <>
                <ControlRow metric={metric} control={control} unit={unit} t={t} locale={locale} />
                {comparisons.map((c) => (
                  <ComparisonRow comparison={c} verdict={verdicts[c.variant]} unit={unit} t={t} locale={locale} />
                ))}
              </>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
