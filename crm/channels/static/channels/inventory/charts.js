// D6 charts: the reconciliation's largest mismatches and stock with days of inventory.
(function () {
  if (!window.echarts) return;
  var font = getComputedStyle(document.body).fontFamily;

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  var rec = data("reconciliation-data");
  var recEl = document.getElementById("reconciliation-chart");
  if (rec && recEl && rec.labels.length) {
    var chart = echarts.init(recEl);
    chart.setOption({
      textStyle: { fontFamily: font },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      yAxis: { type: "category", data: rec.labels.slice().reverse(), axisTick: { show: false }, axisLabel: { interval: 0 } },
      xAxis: { type: "value", splitLine: { lineStyle: { color: "#eef1f5" } } },
      series: [{
        type: "bar", barMaxWidth: 22,
        data: rec.values.slice().reverse().map(function (v) {
          var n = Number(v);
          return { value: n, itemStyle: { color: n < 0 ? "#f04438" : "#f79009", borderRadius: 3 } };
        }),
        label: { show: true, position: "right", color: "#475467" }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  var inv = data("inventory-data");
  var invEl = document.getElementById("inventory-chart");
  if (inv && invEl && inv.labels.length) {
    var c2 = echarts.init(invEl);
    c2.setOption({
      textStyle: { fontFamily: font },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 40, top: 44, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: inv.labels, axisLabel: { interval: 0, rotate: inv.labels.length > 6 ? 30 : 0 } },
      yAxis: [
        { type: "value", name: inv.labels_text.stock, splitLine: { lineStyle: { color: "#eef1f5" } } },
        { type: "value", name: inv.labels_text.days, splitLine: { show: false } }
      ],
      series: [
        { name: inv.labels_text.stock, type: "bar", barMaxWidth: 36, data: inv.stock.map(Number),
          itemStyle: { color: "#2e90fa", borderRadius: [4, 4, 0, 0] } },
        { name: inv.labels_text.days, type: "line", yAxisIndex: 1, data: inv.days,
          connectNulls: false, symbolSize: 8, itemStyle: { color: "#f79009" } }
      ]
    });
    window.addEventListener("resize", function () { c2.resize(); });
  }
})();
