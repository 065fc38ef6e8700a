// The cumulative effect over time of one experiment (GET /ab/experiments/<id>/timeline): per
// metric and treatment, the lift after each day of data with its interval as a band.
import { BandChart } from "../chart.jsx";
import { formatDay, formatValue } from "../format.js";
import { formatEffect, formatP } from "./effects.js";
import { GuardrailBadge } from "./GuardrailBadge.jsx";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

/** ``scale``: the results page's lift scale, so both read the same numbers. */
export function CumulativeEffect({ experimentId, scale, t, locale }) {
  const state = useApi(`/ab/experiments/${encodeURIComponent(experimentId)}/timeline`, { scale });
  const series = state.data?.series ?? [];
  const labels = t.cumulative;
  return (
    <section class="cumulative-effect" aria-labelledby={`cumulative-${experimentId}`}>
      <h3 id={`cumulative-${experimentId}`}>{labels.title}</h3>
      <Status state={{ ...state, empty: state.data && series.length === 0 }} t={t} emptyText={labels.empty} />
      {series.length > 0 && <p class="note">{labels.note}</p>}
      {series.map((s) => (
        <EffectSeries
          key={`${s.metric}-${s.variant}`}
          series={s}
          control={state.data.control}
          several={series.filter((other) => other.metric === s.metric).length > 1}
          t={t}
          locale={locale}
        />
      ))}
    </section>
  );
}

function EffectSeries({ series, control, several, t, locale }) {
  const labels = t.cumulative;
  // Written as the results page writes lifts: signed, a rate's difference in percentage points.
  const format = (value) => formatEffect(value, series, series.unit, locale, t);
  const points = series.points;
  const last = points[points.length - 1];
  const metric = t.metrics[series.metric] ?? series.metric;
  const title = several ? `${metric}: ${series.variant} ${labels.versus} ${control}` : metric;
  const lift = labels[series.scale];
  const band = (point) => `${formatValue(point.ci_level, "ratio", locale, t)} ${labels.interval}`;
  const p = formatP(last.p_value, locale);
  const users = [last.control_n, last.treatment_n].map((n) => formatValue(n, "count", locale, t)).join(" / ");
  return (
    <div class="effect-series" data-metric={series.metric} data-variant={series.variant}>
      <h4>
        {title}
        {last.guardrail_verdict && <GuardrailBadge verdict={last.guardrail_verdict} t={t} />}
      </h4>
      <BandChart
        labels={points.map((point) => formatDay(point.day, locale))}
        estimate={points.map((point) => point.estimate)}
        lower={points.map((point) => point.ci_lower)}
        upper={points.map((point) => point.ci_upper)}
        label={lift}
        bandLabel={labels.intervalName}
        bandLabels={points.map(band)}
        format={format}
      />
      <p class="effect-last">
        {labels.lastDay} {formatDay(last.day, locale)}: {lift} <strong>{format(last.estimate)}</strong> ({band(last)}{" "}
        {format(last.ci_lower)} … {format(last.ci_upper)}), {labels.pValue} {p},{" "}
        {last.significant ? labels.significant : labels.notSignificant}; {control} / {series.variant}: {users}{" "}
        {labels.users}
      </p>
    </div>
  );
}
