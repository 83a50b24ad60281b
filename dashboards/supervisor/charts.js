// The dashboard's charts, drawn with ECharts (npm `echarts`, served by the API at /ui/vendor/echarts/, never a
// CDN). No animation: a chart is read, and a screenshot shows it finished.
import * as echarts from "/ui/vendor/echarts/echarts.esm.min.js";

const FONT = '"PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", system-ui, sans-serif';
const charts = new Map();

// The chart of a container, sized to it now: the panels around it come and go with the tab (a grid of two or
// three columns), so a chart drawn before keeps no stale width.
function chartOf(node) {
  let chart = charts.get(node);
  if (!chart) {
    chart = echarts.init(node, null, { renderer: "canvas" });
    charts.set(node, chart);
  } else {
    chart.resize();
  }
  return chart;
}

const base = () => ({
  animation: false,
  textStyle: { fontFamily: FONT },
  grid: { left: 48, right: 16, top: 36, bottom: 40, containLabel: true },
  tooltip: { trigger: "axis" },
});

// Trend lines: `series` of the API ([{key, points: [[day or hour, value], ...]}]) with their names.
export function drawTrend(node, series, nameOf) {
  const chart = chartOf(node);
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort();
  const short = (x) => (x.length > 10 ? x.slice(5, 16).replace("T", " ") : x.length === 10 ? x.slice(5) : x);
  chart.setOption({
    ...base(),
    legend: { top: 0, data: series.map((s) => nameOf(s.key)) },
    xAxis: { type: "category", data: xs.map(short) },
    yAxis: { type: "value" },
    series: series.map((s) => {
      const byX = new Map(s.points.map((p) => [p[0], p[1]]));
      return { type: "line", name: nameOf(s.key), showSymbol: xs.length <= 40, data: xs.map((x) => byX.get(x) ?? null) };
    }),
  }, true);
  node.dataset.series = String(series.length);
}

// One figure across the sub-areas, as bars.
export function drawCompare(node, names, values, title, percent) {
  const chart = chartOf(node);
  chart.setOption({
    ...base(),
    tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : percent ? `${(v * 100).toFixed(1)}%` : String(v)) },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", name: title, max: percent ? 1 : undefined,
      axisLabel: percent ? { formatter: (v) => `${Math.round(v * 100)}%` } : {} },
    series: [{ type: "bar", name: title, data: values, itemStyle: { color: "#0b6bcb" }, barMaxWidth: 36 }],
  }, true);
  node.dataset.bars = String(values.length);
}

// A distribution (alarms by type, outcomes, reasons a visit was missed...): a ring, largest first.
export function drawDistribution(node, names, values, title) {
  const chart = chartOf(node);
  const data = names.map((name, i) => ({ name, value: values[i] ?? 0 })).filter((d) => d.value > 0)
    .sort((a, b) => b.value - a.value);
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: FONT },
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    legend: { type: "scroll", orient: "vertical", right: 0, top: "middle" },
    series: [{ type: "pie", name: title, radius: ["35%", "65%"], center: ["38%", "52%"], data,
      label: { formatter: "{b}\n{c}" } }],
  }, true);
  node.dataset.slices = String(data.length);
}

// A resident's vitals: one line per measure, out-of-range readings marked in red, the normal band shaded.
export function drawVitals(node, lines) {
  const chart = chartOf(node);
  chart.setOption({
    ...base(),
    legend: { top: 0, data: lines.map((l) => l.name) },
    xAxis: { type: "time" },
    yAxis: { type: "value", scale: true },
    series: lines.map((l) => ({
      type: "line", name: l.name, showSymbol: false, data: l.points,
      markPoint: l.outOfRange.length ? {
        symbol: "circle", symbolSize: 10, itemStyle: { color: "#c62828" }, label: { show: false },
        data: l.outOfRange.map(([x, y]) => ({ coord: [x, y] })),
      } : undefined,
      markArea: l.range ? { silent: true, itemStyle: { color: "rgba(26,127,55,0.08)" }, data: [[{ yAxis: l.range[0] }, { yAxis: l.range[1] }]] } : undefined,
    })),
  }, true);
  node.dataset.outOfRange = String(lines.reduce((n, l) => n + l.outOfRange.length, 0));
}

export function clearChart(node) {
  charts.get(node)?.clear();
}

export function resizeCharts() {
  for (const chart of charts.values()) chart.resize();
}
