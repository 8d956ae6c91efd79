// The customers page's chart: how many customers carried each tag on each refresh day.
// Data: #customers-data (server side): {dates, series {tag: [n]}, names {tag: label}, title}.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("customers-data").textContent);
  const box = document.getElementById("customers-chart");
  if (!box || !window.echarts) return;
  const chart = echarts.init(box, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    title: { text: data.title, left: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis" },
    legend: { top: 0, right: 0 },
    grid: { left: 48, right: 16, top: 48, bottom: 28 },
    xAxis: { type: "category", data: data.dates, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", minInterval: 1 },
    series: Object.keys(data.series).map((tag) => ({
      name: data.names[tag] || tag, type: "line", data: data.series[tag], showSymbol: data.dates.length < 40,
      connectNulls: true,
    })),
  });
  window.addEventListener("resize", () => chart.resize());
  box.dataset.ready = "1";
})();
