// The forecast page's chart: one SKU's actual daily demand, what its method said for the
// held-out days, and the days ahead; promotion days marked. Data: #forecast-data (server side).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("forecast-data").textContent);
  const box = document.getElementById("forecast-chart");
  if (!box || !window.echarts) return;
  const chart = echarts.init(box, null, { renderer: "canvas" });
  const line = (name, values, style) => Object.assign({ name, type: "line", data: values, showSymbol: false,
    connectNulls: false }, style);
  chart.setOption({
    animation: false,
    title: { text: data.title, left: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis" },
    legend: { top: 0, right: 0 },
    grid: { left: 40, right: 16, top: 48, bottom: 28 },
    xAxis: { type: "category", data: data.dates, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      line(data.labels.actual, data.actual, { color: "#5470c6", lineStyle: { width: 1.5 },
        markArea: { silent: true, itemStyle: { color: "rgba(250, 200, 88, .25)" },
          data: data.promotions.map((d) => [{ xAxis: d, name: data.labels.promotion }, { xAxis: d }]) } }),
      line(data.labels.holdout, data.holdout, { color: "#ee6666", lineStyle: { type: "dashed", width: 2 } }),
      line(data.labels.ahead, data.forecast, { color: "#3ba272", lineStyle: { width: 2 } }),
    ],
  });
  window.addEventListener("resize", () => chart.resize());
  box.dataset.ready = "1";
})();
