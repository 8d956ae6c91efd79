// The report pages' chart: categories along x, bars and lines on one or two value axes (the
// second on the right), an optional pie beside it. Data: #report-data, made on the server
// (server/web/reports.py chart()).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const box = document.getElementById("report-chart");
  if (!box || !window.echarts) return;
  const chart = echarts.init(box, null, { renderer: "canvas" });
  const axes = (data.axes || [""]).map((name, i) => ({ type: "value", name, position: i ? "right" : "left",
    splitLine: { show: i === 0 }, axisLabel: { hideOverlap: true } }));
  const series = data.series.map((s) => {
    const one = { name: s.name, type: s.type, data: s.data, yAxisIndex: s.axis || 0, connectNulls: false,
      showSymbol: s.type === "line" && data.x.length < 40 };
    if (s.dashed) Object.assign(one, { lineStyle: { type: "dashed", width: 1.5 }, itemStyle: { color: "#9a9a9a" } });
    else if (s.type === "line") one.lineStyle = { width: 2.5 };
    if (s.type === "bar" && data.series.some((o) => o.type === "line" && !o.axis) && !data.stacked)
      one.itemStyle = { color: "rgba(145, 204, 117, .45)" };  // bars behind lines on the left axis: light
    if (data.stacked && s.type === "bar") one.stack = "all";
    if (s.by_color && data.colors) one.itemStyle = { color: (p) => data.colors[p.dataIndex] };
    return one;
  });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0, type: "scroll" },
    grid: { left: 64, right: axes.length > 1 ? 64 : 24, top: 48, bottom: 36 },
    xAxis: { type: "category", data: data.x, axisLabel: { hideOverlap: true } },
    yAxis: axes,
    series,
  });
  const pieBox = document.getElementById("report-pie");
  let pie = null;
  if (pieBox && data.pie) {
    pie = echarts.init(pieBox, null, { renderer: "canvas" });
    pie.setOption({ animation: false, title: { text: data.pie.name, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" }, legend: { bottom: 0, type: "scroll" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: data.pie.data, label: { formatter: "{b}: {d}%" } }] });
  }
  window.addEventListener("resize", () => { chart.resize(); if (pie) pie.resize(); });
  box.dataset.ready = "1";
})();
