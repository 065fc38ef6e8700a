// Chart.js line, bar and x-y charts, registered piece by piece so the bundle carries only what they draw.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip);

const COLOUR = "#2457a6";
const PALETTE = [COLOUR, "#d9822b", "#3a9d5d", "#a23b72", "#6c757d", "#c7a20a"];

/** labels[i], values[i]; partial[i] draws that point hollow and the line into it dashed. */
export function LineChart({ labels, values, partial, label, format }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    chart.current = new Chart(canvas.current, {
      type: "line",
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { tooltip: { callbacks: {} } },
        scales: { y: { beginAtZero: true, ticks: {} } },
      },
    });
    return () => chart.current.destroy();
  }, []);
  useEffect(() => {
    const current = chart.current;
    current.data.labels = labels;
    current.data.datasets = [
      {
        label,
        data: values,
        borderColor: COLOUR,
        backgroundColor: COLOUR,
        pointBackgroundColor: partial.map((p) => (p ? "#fff" : COLOUR)),
        pointRadius: labels.length > 60 ? 1.5 : 3,
        segment: { borderDash: (ctx) => (partial[ctx.p1DataIndex] ? [6, 4] : undefined) },
      },
    ];
    current.options.scales.y.ticks.callback = (value) => format(value);
    current.options.plugins.tooltip.callbacks.label = (ctx) => `${label}: ${format(ctx.parsed.y)}`;
    current.update();
  }, [labels, values, partial, label, format]);
  return (
    <div class="chart">
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}

/** Bars: one dataset per series ({label, values}), one group per label; ``horizontal`` puts
 * the labels on the y axis (long names, largest first as given) and titles the value axis. */
export function BarChart({ labels, series, label, format, horizontal = false }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  const valueAxis = horizontal ? "x" : "y";
  useEffect(() => {
    chart.current = new Chart(canvas.current, {
      type: "bar",
      data: { labels: [], datasets: [] },
      options: {
        indexAxis: horizontal ? "y" : "x",
        animation: false,
        maintainAspectRatio: false,
        plugins: { tooltip: { callbacks: {} }, legend: { display: series.length > 1 } },
        scales: { [valueAxis]: { beginAtZero: true, ticks: {}, title: { display: horizontal, text: label } } },
      },
    });
    return () => chart.current.destroy();
  }, []);
  useEffect(() => {
    const current = chart.current;
    current.data.labels = labels;
    current.data.datasets = series.map((s, i) => ({
      label: s.label,
      data: s.values,
      backgroundColor: PALETTE[i % PALETTE.length],
    }));
    current.options.scales[valueAxis].ticks.callback = (value) => format(value);
    current.options.plugins.tooltip.callbacks.label = (ctx) => `${ctx.dataset.label}: ${format(ctx.parsed[valueAxis])}`;
    current.update();
  }, [labels, series, format]);
  const height = horizontal ? { height: `${Math.max(200, 26 * labels.length + 60)}px` } : undefined;
  return (
    <div class="chart" style={height}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}

/** One row per label: a floating bar from low to high (an interval) with a dot at its estimate,
 * against a darker zero line. A missing bound leaves that row's bar out; the dot stays. */
export function IntervalChart({ rows, label, intervalLabel, estimateLabel, format }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    const zero = (ctx) => ctx.tick?.value === 0;
    chart.current = new Chart(canvas.current, {
      type: "bar",
      data: { labels: [], datasets: [] },
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        plugins: { tooltip: { callbacks: {} }, legend: { display: true } },
        scales: {
          // 0 always in range and drawn dark: which side of "no effect" the interval lies on.
          x: {
            suggestedMin: 0,
            suggestedMax: 0,
            ticks: {},
            title: { display: true, text: "" },
            grid: { color: (ctx) => (zero(ctx) ? "#1d2430" : "#e6e9ef"), lineWidth: (ctx) => (zero(ctx) ? 2 : 1) },
          },
        },
      },
    });
    return () => chart.current.destroy();
  }, []);
  useEffect(() => {
    const current = chart.current;
    const complete = (r) => r.low != null && r.high != null;
    current.data.labels = rows.map((r) => r.label);
    current.data.datasets = [
      {
        label: intervalLabel,
        data: rows.map((r) => (complete(r) ? [r.low, r.high] : null)),
        backgroundColor: "rgba(36, 87, 166, 0.35)",
        borderColor: COLOUR,
        borderWidth: 1,
        barPercentage: 0.5,
      },
      {
        type: "line",
        label: estimateLabel,
        data: rows.map((r) => ({ x: r.estimate, y: r.label })),
        showLine: false,
        pointRadius: 6,
        pointStyle: "rectRot",
        backgroundColor: PALETTE[1],
        borderColor: PALETTE[1],
      },
    ];
    current.options.scales.x.ticks.callback = (value) => format(value);
    current.options.scales.x.title.text = label;
    current.options.plugins.tooltip.callbacks.label = (ctx) =>
      ctx.datasetIndex === 0
        ? `${intervalLabel}: ${format(ctx.raw[0])} – ${format(ctx.raw[1])}`
        : `${estimateLabel}: ${format(ctx.parsed.x)}`;
    current.update();
  }, [rows, label, intervalLabel, estimateLabel, format]);
  return (
    <div class="chart" style={{ height: `${Math.max(140, 48 * rows.length + 90)}px` }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}

/** Points on two value axes: one dataset per series ({label, points: [{x, y}], line, dashed});
 * a ``line`` series joins its points in order, a ``dashed`` one draws a reference (the diagonal)
 * without points. ``xLabels`` makes x a category axis (a categorical feature's levels). */
export function XYChart({ series, xTitle, yTitle, formatX, formatY, xLabels, label }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    chart.current = new Chart(canvas.current, {
      type: "scatter",
      data: { datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { tooltip: { callbacks: {} }, legend: { display: series.length > 1 } },
        scales: { x: { title: { display: true } }, y: { title: { display: true } } },
      },
    });
    return () => chart.current.destroy();
  }, []);
  useEffect(() => {
    const current = chart.current;
    current.data.datasets = series.map((s, i) => {
      const colour = s.dashed ? "#8a94a6" : PALETTE[i % PALETTE.length];
      return {
        label: s.label,
        data: s.points,
        showLine: Boolean(s.line || s.dashed),
        borderColor: colour,
        backgroundColor: s.dashed ? colour : `${colour}88`,
        borderDash: s.dashed ? [6, 4] : undefined,
        borderWidth: s.dashed ? 1 : 2,
        pointRadius: s.dashed ? 0 : s.line ? 2 : 2.5,
      };
    });
    const { x, y } = current.options.scales;
    Object.assign(x, xLabels ? { type: "category", labels: xLabels } : { type: "linear", labels: undefined });
    x.title.text = xTitle;
    y.title.text = yTitle;
    x.ticks = xLabels ? {} : { callback: (value) => formatX(value) };
    y.ticks = { callback: (value) => formatY(value) };
    current.options.plugins.tooltip.callbacks.label = (ctx) =>
      `${ctx.dataset.label}: ${xLabels ? ctx.raw.x : formatX(ctx.parsed.x)}, ${formatY(ctx.parsed.y)}`;
    current.update();
  }, [series, xTitle, yTitle, formatX, formatY, xLabels]);
  return (
    <div class="chart">
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}

const BAND = "rgba(36, 87, 166, 0.15)";

/** An estimate over labels with its interval as a band (lower[i] to upper[i]; null: unbounded,
 * left open) and the zero line drawn dark: the lift of an experiment day by day. The legend names
 * the band ``bandLabel``; the tooltip gives each point's estimate with its interval, named
 * ``bandLabels[i]`` (its own confidence level). */
export function BandChart({ labels, estimate, lower, upper, label, bandLabel, bandLabels, format }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    chart.current = new Chart(canvas.current, {
      type: "line",
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { labels: { filter: (item) => item.datasetIndex > 0 } },
          tooltip: { filter: (item) => item.datasetIndex === 2, callbacks: {} },
        },
        scales: {
          // beginAtZero keeps 0 in range, so it is a tick and its grid line is the zero line
          y: {
            beginAtZero: true,
            ticks: {},
            grid: {
              color: (ctx) => (ctx.tick?.value === 0 ? "#333" : "rgba(0, 0, 0, 0.1)"),
              lineWidth: (ctx) => (ctx.tick?.value === 0 ? 1.5 : 1),
            },
          },
        },
      },
    });
    return () => chart.current.destroy();
  }, []);
  useEffect(() => {
    const current = chart.current;
    const bound = { borderWidth: 0, pointRadius: 0, pointHoverRadius: 0, pointHitRadius: 0, backgroundColor: BAND };
    current.data.labels = labels;
    current.data.datasets = [
      { ...bound, label: bandLabel, data: lower, fill: false },
      { ...bound, label: bandLabel, data: upper, fill: "-1" },
      {
        label,
        data: estimate,
        borderColor: COLOUR,
        backgroundColor: COLOUR,
        pointRadius: labels.length > 60 ? 1.5 : 2.5,
        fill: false,
      },
    ];
    current.options.scales.y.ticks.callback = (value) => format(value);
    current.options.plugins.tooltip.callbacks.label = (ctx) => {
      const i = ctx.dataIndex;
      return `${label}: ${format(estimate[i])} (${bandLabels[i]}: ${format(lower[i])} … ${format(upper[i])})`;
    };
    current.update();
  }, [labels, estimate, lower, upper, label, bandLabel, bandLabels, format]);
  return (
    <div class="chart">
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
