// Chart.js line and bar charts, registered piece by piece so the bundle carries only what they draw.
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
  Tooltip,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

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

const BAND = "rgba(36, 87, 166, 0.15)";

/** An estimate over labels with its interval as a band (lower[i] to upper[i]; null: unbounded,
 * left open) and the zero line drawn dark: the lift of an experiment day by day. The legend names
 * the band ``bandLabel``; the tooltip gives each point's estimate with its interval, named
 * ``bandLabels[i]`` (its own confidence level). */
export function IntervalChart({ labels, estimate, lower, upper, label, bandLabel, bandLabels, format }) {
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
