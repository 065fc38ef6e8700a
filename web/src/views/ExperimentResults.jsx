// One experiment's results page (#/experiments/<id>): its definition (GET /ab/experiments/{id}),
// the analysis with the chosen read-outs (POST /ab/analyze), the decision, SRM, an interval plot
// and the numbers per metric, breakdowns, downloads and a power/duration calculator.
import { useMemo, useState } from "preact/hooks";
import { IntervalChart } from "../chart.jsx";
import { formatDay, formatValue } from "../format.js";
import { Breakdown } from "./Breakdown.jsx";
import { CumulativeEffect } from "./CumulativeEffect.jsx";
import { formatEffect, metricUnit, testedEffect } from "./effects.js";
import { Decision, SrmBanner } from "./ExperimentDecision.jsx";
import { ExperimentReport } from "./ExperimentReport.jsx";
import { PowerCalculator } from "./PowerCalculator.jsx";
import { BayesianReadOut, Guardrails, SequentialReadOut } from "./ReadOuts.jsx";
import { ResultsTable } from "./ResultsTable.jsx";
import { Status } from "./Status.jsx";
import { useApi } from "./useApi.js";

// The API's defaults (AbOptions): the relative scale, no sequential intervals, a flat Gaussian prior.
// The offline snapshot embeds the answers to these (scripts/local/snapshot.py analysis_body).
const DEFAULT_OPTIONS = { scale: "relative", sequential: false, bayesian: "gaussian" };
const BAYESIAN = ["gaussian", "beta_binomial", "none"];

function requestOptions({ scale, sequential, bayesian }) {
  return { scale, sequential, bayesian: bayesian === "none" ? false : { model: bayesian } };
}

/** The shop's currency, as the KPI catalogue names the unit of revenue. */
function shopCurrency(catalogue) {
  const revenue = catalogue?.kpis.find((k) => k.name === "revenue");
  return revenue?.columns.find((c) => c.name === "revenue")?.unit;
}

function Definition({ experiment, t, locale }) {
  return (
    <p class="covers">
      <span class={`badge status-${experiment.status}`}>{t[experiment.status] ?? experiment.status}</span>{" "}
      {formatDay(experiment.start_date, locale)} – {experiment.end_date ? formatDay(experiment.end_date, locale) : t.open} ·{" "}
      {t.variants}: {experiment.variants.map((v) => `${v.name} ${formatValue(v.weight, "ratio", locale, t)}`).join(" · ")} ·{" "}
      {t.asOf}: {formatDay(experiment.as_of, locale)}
    </p>
  );
}

function OptionsForm({ options, setOptions, t }) {
  const set = (name) => (e) => {
    const input = e.currentTarget;
    setOptions({ ...options, [name]: input.type === "checkbox" ? input.checked : input.value });
  };
  return (
    <form class="pickers analysis-options" onSubmit={(e) => e.preventDefault()}>
      <label>
        {t.scale}
        <select name="scale" value={options.scale} onChange={set("scale")}>
          {["relative", "absolute"].map((s) => (
            <option value={s}>{t.scales[s]}</option>
          ))}
        </select>
      </label>
      <label>
        {t.bayesian}
        <select name="bayesian" value={options.bayesian} onChange={set("bayesian")}>
          {BAYESIAN.map((b) => (
            <option value={b}>{t.bayesianModels[b]}</option>
          ))}
        </select>
      </label>
      <label class="inline">
        <input type="checkbox" name="sequential" checked={options.sequential} onChange={set("sequential")} />
        {t.sequential}
      </label>
    </form>
  );
}

/** One interval plot per metric: each treatment's estimate and interval on its tested scale. */
function MetricPlot({ comparisons, currency, t, locale }) {
  const first = comparisons[0];
  const unit = metricUnit(first, currency);
  const plot = useMemo(
    () => ({
      rows: comparisons.map((c) => {
        const effect = testedEffect(c);
        return { label: c.variant, estimate: effect.estimate, low: effect.ci[0], high: effect.ci[1] };
      }),
      format: (v) => formatEffect(v, first, unit, locale, t),
    }),
    [comparisons, unit, locale],
  );
  return (
    <figure class="metric-plot" data-metric={first.metric}>
      <figcaption>
        {t.metrics[first.metric] ?? first.metric} <span class="badge">{t.roles[first.role]}</span>
      </figcaption>
      <IntervalChart
        rows={plot.rows}
        format={plot.format}
        label={`${t.lift} (${t.scales[first.scale]})`}
        intervalLabel={t.interval}
        estimateLabel={t.estimate}
      />
    </figure>
  );
}

function Analysis({ analysis, currency, t, locale }) {
  const metrics = [...new Set(analysis.comparisons.map((c) => c.metric))];
  const guardrails = analysis.comparisons.filter((c) => c.role === "guardrail");
  return (
    <>
      <Decision decision={analysis.decision} t={t} />
      <SrmBanner srm={analysis.srm} variants={analysis.variants} t={t} locale={locale} />
      <h3>{t.effects}</h3>
      <div class="metric-plots">
        {metrics.map((metric) => (
          <MetricPlot comparisons={analysis.comparisons.filter((c) => c.metric === metric)} currency={currency} t={t} locale={locale} />
        ))}
      </div>
      <h3>{t.numbers}</h3>
      <ResultsTable analysis={analysis} currency={currency} t={t} locale={locale} />
      {analysis.options.sequential && (
        <>
          <h3>{t.sequentialReadOut}</h3>
          <SequentialReadOut analysis={analysis} t={t} locale={locale} />
        </>
      )}
      {analysis.options.bayesian && (
        <>
          <h3>{t.bayesianReadOut}</h3>
          <BayesianReadOut analysis={analysis} currency={currency} t={t} locale={locale} />
        </>
      )}
      {guardrails.length > 0 && (
        <>
          <h3>{t.guardrails}</h3>
          <Guardrails guardrails={guardrails} currency={currency} t={t} locale={locale} />
        </>
      )}
    </>
  );
}

/** A planned experiment has nobody exposed yet: its definition, when it starts, and the
 * calculator that sizes it; the analysis, timeline and breakdowns appear once it runs. */
function Planned({ experiment, t, locale }) {
  return (
    <>
      <Definition experiment={experiment} t={t} locale={locale} />
      <p class="status empty" data-planned>
        {t.notStarted(formatDay(experiment.start_date, locale))}
      </p>
      <h3>{t.powerTitle}</h3>
      <PowerCalculator t={t} locale={locale} />
    </>
  );
}

/** What the page shows once the experiment is known: the analysis, downloads, breakdowns, power. */
function Results({ experiment, t, locale }) {
  const experimentId = experiment.experiment_id;
  const [options, setOptions] = useState(DEFAULT_OPTIONS);
  const requested = requestOptions(options);
  // the decision's summary and reasons come back in the page's language (en-US or de-DE)
  const analysis = useApi("/ab/analyze", {}, { experiment_id: experimentId, options: requested, locale });
  const currency = shopCurrency(useApi("/kpi").data);
  const comparisons = analysis.data?.comparisons ?? [];
  return (
    <>
      <Definition experiment={experiment} t={t} locale={locale} />
      <OptionsForm options={options} setOptions={setOptions} t={t} />
      {/* A new option keeps the old answer on screen, dimmed, until the new one arrives. */}
      <Status
        state={{ ...analysis, loading: analysis.loading && !analysis.data, empty: analysis.data && comparisons.length === 0 }}
        t={t}
        emptyText={t.noResults}
      />
      {comparisons.length > 0 && (
        <div class={analysis.loading ? "stale" : ""} aria-busy={analysis.loading}>
          <Analysis analysis={analysis.data} currency={currency} t={t} locale={locale} />
        </div>
      )}
      <CumulativeEffect experimentId={experimentId} scale={options.scale} t={t} locale={locale} />
      <h3>{t.downloadResults}</h3>
      <ExperimentReport experimentId={experimentId} t={t} locale={locale} />
      <h3>{t.breakdown}</h3>
      <Breakdown experimentId={experimentId} options={requested} currency={currency} t={t} locale={locale} />
      <h3>{t.powerTitle}</h3>
      <PowerCalculator t={t} locale={locale} />
    </>
  );
}

export function ExperimentResults({ experimentId, t, locale }) {
  const definition = useApi(`/ab/experiments/${encodeURIComponent(experimentId)}`);
  return (
    <section aria-labelledby="results-title" class="experiment-results">
      <a href="#/experiments">← {t.allExperiments}</a>
      <h2 id="results-title">
        {t.resultsOf} <code>{experimentId}</code>
      </h2>
      {definition.status === 404 ? (
        <p class="status error" role="alert" data-not-found>
          {t.unknownExperiment(experimentId)}
        </p>
      ) : (
        <Status state={definition} t={t} />
      )}
      {definition.data &&
        (definition.data.status === "planned" ? (
          <Planned experiment={definition.data} t={t} locale={locale} />
        ) : (
          <Results experiment={definition.data} t={t} locale={locale} />
        ))}
    </section>
  );
}
