// One Chart.js line chart, registered piece by piece so the bundle carries only what it draws.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip);

const COLOUR = "#2457a6";

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

/** Horizontal bars, largest first as given: labels[i] with values[i]. */
export function BarChart({ labels, values, label, format }) {
  const canvas = useRef(null);
  useEffect(() => {
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: { labels, datasets: [{ label, data: values, backgroundColor: COLOUR }] },
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        scales: { x: { beginAtZero: true, title: { display: true, text: label }, ticks: { callback: (value) => format(value) } } },
        plugins: { tooltip: { callbacks: { label: (ctx) => `${label}: ${format(ctx.parsed.x)}` } } },
      },
    });
    return () => chart.destroy();
  }, [labels, values, label, format]);
  return (
    <div class="chart" style={{ height: `${Math.max(200, 26 * labels.length + 60)}px` }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
