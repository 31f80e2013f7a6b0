/* The dashboards' ECharts set-up in one place: the page's font, one palette, SVG rendering,
   charts that follow the window's size, and the option shapes several pages draw (bars per
   org or matter, the five satisfaction levels). Load after vendor/echarts.min.js (both
   deferred); pages call tongbanCharts.* from a DOMContentLoaded handler. */
(function () {
  "use strict";
  var COLORS = ["#b3261e", "#1e7d46", "#0b57a4", "#a15c00", "#5b6775", "#7b3fa0", "#00838f", "#c2185b"];
  var LEVEL_COLORS = ["#1e7d46", "#5fa36f", "#a1a1a1", "#d9822b", "#b3261e"]; // 非常满意 … 非常不满意
  var charts = [];

  function make(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    option.color = option.color || COLORS;
    option.textStyle = { fontFamily: getComputedStyle(document.body).fontFamily };
    chart.setOption(option);
    charts.push(chart);
    return chart;
  }

  // Horizontal bars, one series per [name, values] pair, categories top to bottom.
  function bars(names, series) {
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: series.length > 1 ? 36 : 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: names, inverse: true, axisLabel: { width: 110, overflow: "truncate" } },
      series: series.map(function (s) { return { name: s[0], type: "bar", data: s[1], barMaxWidth: 22 }; })
    };
  }

  // Counts per satisfaction level, each bar in its level's colour.
  function satisfaction(levels) {
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: levels.names },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: "件数", type: "bar", barMaxWidth: 36,
        data: levels.values.map(function (v, i) { return { value: v, itemStyle: { color: LEVEL_COLORS[i] } }; }) }]
    };
  }

  function data(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.tongbanCharts = { make: make, bars: bars, satisfaction: satisfaction, data: data };
})();
