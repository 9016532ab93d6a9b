// C7 customer analysis: draws each chart of the page from the numbers in #analysis-data.
(function () {
  var source = document.getElementById("analysis-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var font = getComputedStyle(document.body).fontFamily;
  var blue = "#1f6feb";
  var palette = ["#1f6feb", "#12b76a", "#f79009", "#7a5af8", "#f04438", "#0ba5ec", "#98a2b3", "#ee46bc"];

  function option(type, rows) {
    var names = rows.map(function (r) { return r.name; });
    var values = rows.map(function (r) { return r.value; });
    var base = { color: palette, textStyle: { fontFamily: font }, tooltip: {} };
    if (type === "pie") {
      base.tooltip = { trigger: "item", formatter: "{b}: {c} ({d}%)" };
      base.legend = { bottom: 0, type: "scroll" };
      base.series = [{ type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"], label: { formatter: "{b}\n{c}" },
        data: rows.map(function (r) { return { name: r.name, value: r.value }; }) }];
      return base;
    }
    base.tooltip = { trigger: "axis", axisPointer: { type: "shadow" } };
    base.grid = { left: 8, right: 36, top: 16, bottom: 8, containLabel: true };
    var category = { type: "category", data: names, axisTick: { show: false }, axisLabel: { color: "#475467" } };
    var value = { type: "value", minInterval: 1, axisLabel: { color: "#98a2b3" }, splitLine: { lineStyle: { color: "#eef1f5" } } };
    if (type === "hbar") {
      category.inverse = true;
      base.xAxis = value; base.yAxis = category;
      base.series = [{ type: "bar", data: values, barMaxWidth: 16, itemStyle: { color: blue, borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: "right", color: "#475467" } }];
    } else {
      base.xAxis = category; base.yAxis = value;
      base.series = [{ type: type === "line" ? "line" : "bar", data: values, barMaxWidth: 28,
        areaStyle: type === "line" ? { opacity: 0.08 } : undefined,
        itemStyle: { color: blue, borderRadius: type === "line" ? 0 : [4, 4, 0, 0] },
        label: { show: true, position: "top", color: "#475467" } }];
    }
    return base;
  }

  function abcOption(abc, el) {
    var rows = abc.classes;
    return {
      color: palette, textStyle: { fontFamily: font },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0 },
      grid: { left: 8, right: 8, top: 16, bottom: 32, containLabel: true },
      xAxis: { type: "category", data: rows.map(function (r) { return r["class"]; }) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", splitLine: { show: false } }],
      series: [
        { name: el.dataset.seriesLabel || "", type: "bar", barMaxWidth: 40, data: rows.map(function (r) { return r.customers; }) },
        { name: abc.label, type: "line", yAxisIndex: 1, data: rows.map(function (r) { return Number(r.value); }) }
      ]
    };
  }

  document.querySelectorAll("[data-analysis-chart]").forEach(function (el) {
    var key = el.dataset.analysisChart;
    var type = el.dataset.chartType;
    var opt = type === "abc" ? (data.abc && abcOption(data.abc, el)) : option(type, data[key] || []);
    if (!opt) return;
    if (type === "hbar") el.style.height = Math.max(220, 26 * (data[key] || []).length + 40) + "px";
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(opt);
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
