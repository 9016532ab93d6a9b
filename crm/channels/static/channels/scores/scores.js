// D8 score period page: a bar per partner (best first) from #score-chart-data.
(function () {
  var source = document.getElementById("score-chart-data");
  var el = document.getElementById("score-chart");
  if (!source || !el || !window.echarts) return;
  var rows = JSON.parse(source.textContent);
  var chart = echarts.init(el);
  var font = getComputedStyle(document.body).fontFamily;
  chart.setOption({
    color: ["#1f6feb"],
    textStyle: { fontFamily: font },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: "value", max: 100, axisLabel: { color: "#98a2b3" }, splitLine: { lineStyle: { color: "#eef1f5" } } },
    yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }), axisTick: { show: false }, axisLabel: { interval: 0, color: "#475467", width: 160, overflow: "truncate" } },
    series: [{ name: el.dataset.label, type: "bar", barMaxWidth: 18, itemStyle: { borderRadius: [0, 4, 4, 0] },
      data: rows.map(function (r) { return Number(r.total); }),
      label: { show: true, position: "right", color: "#475467", formatter: function (p) { return p.value.toFixed(2); } } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
