// S6 aging report: outstanding amount per bucket of days overdue, from #aging-data.
(function () {
  var source = document.getElementById("aging-data");
  var el = document.getElementById("aging-chart");
  if (!source || !el || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var colors = ["#12b76a", "#f79009", "#f97316", "#f04438", "#b42318"];
  var chart = echarts.init(el);
  chart.setOption({
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.labels, axisTick: { show: false } },
    yAxis: { type: "value", splitLine: { lineStyle: { color: "#eef1f5" } } },
    series: [{
      type: "bar", barMaxWidth: 48,
      data: data.values.map(function (v, i) { return { value: Number(v), itemStyle: { color: colors[i % colors.length], borderRadius: [4, 4, 0, 0] } }; }),
      label: { show: true, position: "top", color: "#475467" }
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
