// The margin page's chart: revenue of the shipped lines and their margin, by day (yuan).
// Data: #money-data (server side).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("money-data").textContent);
  const box = document.getElementById("money-chart");
  if (!box || !window.echarts) return;
  const chart = echarts.init(box, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    title: { text: data.labels.title, left: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis" },
    legend: { top: 0, right: 0 },
    grid: { left: 64, right: 16, top: 48, bottom: 28 },
    xAxis: { type: "category", data: data.days, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value" },
    series: [
      { name: data.labels.revenue, type: "bar", data: data.revenue, color: "#91cc75" },
      { name: data.labels.margin, type: "line", data: data.margin, color: "#5470c6", showSymbol: false },
    ],
  });
  window.addEventListener("resize", () => chart.resize());
  box.dataset.ready = "1";
})();
