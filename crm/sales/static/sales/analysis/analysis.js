// S9 sales analysis: draws each chart of the page from the numbers in #sales-analysis-data
// (the same numbers the API answers). Money arrives as decimal strings.
(function () {
  var source = document.getElementById("sales-analysis-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var font = getComputedStyle(document.body).fontFamily;
  var palette = ["#1f6feb", "#12b76a", "#f79009", "#7a5af8", "#f04438", "#0ba5ec", "#98a2b3", "#ee46bc"];
  var muted = "#98a2b3", text = "#475467", grid = "#eef1f5";

  function num(v) { return v === null || v === undefined ? 0 : Number(v); }
  function money(v) { return num(v).toLocaleString(undefined, { maximumFractionDigits: 2 }); }
  function get(path) {
    return path.split(".").reduce(function (o, k) { return o === null || o === undefined ? o : o[k]; }, data);
  }
  function base() {
    return { color: palette, textStyle: { fontFamily: font }, tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: money } };
  }
  function valueAxis() {
    return { type: "value", axisLabel: { color: muted }, splitLine: { lineStyle: { color: grid } } };
  }

  function hbar(rows) {
    var opt = base();
    opt.grid = { left: 8, right: 72, top: 8, bottom: 8, containLabel: true };
    opt.xAxis = valueAxis();
    opt.yAxis = { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }), axisTick: { show: false }, axisLabel: { color: text, width: 120, overflow: "truncate" } };
    opt.series = [{ type: "bar", barMaxWidth: 16, data: rows.map(function (r) { return num(r.amount); }),
      itemStyle: { borderRadius: [0, 4, 4, 0] }, label: { show: true, position: "right", color: text, formatter: function (p) { return money(p.value); } } }];
    return opt;
  }

  function pie(rows) {
    var opt = base();
    opt.tooltip = { trigger: "item", valueFormatter: money };
    opt.legend = { bottom: 0, type: "scroll" };
    opt.series = [{ type: "pie", radius: ["38%", "66%"], center: ["50%", "44%"],
      data: rows.map(function (r) { return { name: r.name, value: num(r.amount) }; }) }];
    return opt;
  }

  var builders = {
    trend: function (el) {
      var rows = data.trend || [];
      var opt = base();
      opt.legend = { bottom: 0 };
      opt.grid = { left: 8, right: 16, top: 16, bottom: 32, containLabel: true };
      opt.xAxis = { type: "category", data: rows.map(function (r) { return r.key; }), axisTick: { show: false }, axisLabel: { color: text } };
      opt.yAxis = valueAxis();
      opt.series = [
        { name: el.dataset.ordersLabel, type: "bar", barMaxWidth: 22, itemStyle: { borderRadius: [4, 4, 0, 0] }, data: rows.map(function (r) { return num(r.orders); }) },
        { name: el.dataset.collectionsLabel, type: "line", symbolSize: 6, data: rows.map(function (r) { return num(r.collections); }) }
      ];
      return opt;
    },
    funnel: function () {
      var stages = (data.funnel && data.funnel.stages) || [];
      return { color: palette, textStyle: { fontFamily: font },
        tooltip: { trigger: "item", formatter: function (p) { return p.name + "<br>" + p.data.count + " · " + money(p.data.amount); } },
        series: [{ type: "funnel", sort: "none", left: "8%", width: "84%", top: 8, bottom: 8, minSize: "18%", gap: 2,
          label: { position: "inside", formatter: function (p) { return p.name + " " + p.data.count; } },
          data: stages.map(function (s, i) { return { name: s.name, value: stages.length - i, count: s.count, amount: s.amount }; }) }] };
    },
    forecast: function (el) {
      var rows = (data.forecast && data.forecast.months) || [];
      var opt = base();
      opt.legend = { bottom: 0 };
      opt.grid = { left: 8, right: 16, top: 16, bottom: 32, containLabel: true };
      opt.xAxis = { type: "category", data: rows.map(function (r) { return r.key; }), axisTick: { show: false }, axisLabel: { color: text } };
      opt.yAxis = valueAxis();
      opt.series = [
        { name: el.dataset.amountLabel, type: "bar", barMaxWidth: 22, itemStyle: { color: "#bcd0f5", borderRadius: [4, 4, 0, 0] }, data: rows.map(function (r) { return num(r.amount); }) },
        { name: el.dataset.weightedLabel, type: "bar", barMaxWidth: 22, barGap: "-100%", itemStyle: { color: "#1f6feb", borderRadius: [4, 4, 0, 0] }, data: rows.map(function (r) { return num(r.weighted); }) }
      ];
      return opt;
    },
    win_rate: function (el) {
      var rows = (data.win_rate && data.win_rate.by_owner) || [];
      var opt = base();
      opt.tooltip.valueFormatter = undefined;
      opt.legend = { bottom: 0 };
      opt.grid = { left: 8, right: 16, top: 8, bottom: 32, containLabel: true };
      opt.xAxis = { type: "value", minInterval: 1, axisLabel: { color: muted }, splitLine: { lineStyle: { color: grid } } };
      opt.yAxis = { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }), axisTick: { show: false } };
      opt.series = [
        { name: el.dataset.wonLabel, type: "bar", stack: "n", barMaxWidth: 16, itemStyle: { color: "#12b76a" }, data: rows.map(function (r) { return r.won; }) },
        { name: el.dataset.lostLabel, type: "bar", stack: "n", barMaxWidth: 16, itemStyle: { color: "#f04438" }, data: rows.map(function (r) { return r.lost; }) }
      ];
      return opt;
    },
    department: function (el) {
      var rows = (data.breakdowns && data.breakdowns.department) || [];
      var opt = base();
      opt.legend = { bottom: 0 };
      opt.grid = { left: 8, right: 16, top: 8, bottom: 32, containLabel: true };
      opt.xAxis = valueAxis();
      opt.yAxis = { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }), axisTick: { show: false } };
      opt.series = [
        { name: el.dataset.ordersLabel, type: "bar", barMaxWidth: 14, data: rows.map(function (r) { return num(r.orders); }) },
        { name: el.dataset.collectionsLabel, type: "bar", barMaxWidth: 14, data: rows.map(function (r) { return num(r.collections); }) }
      ];
      el.style.height = Math.max(200, 44 * rows.length + 60) + "px";
      return opt;
    }
  };

  document.querySelectorAll("[data-sales-chart]").forEach(function (el) {
    var key = el.dataset.salesChart, type = el.dataset.chartType, opt = null;
    if (builders[key]) {
      opt = builders[key](el);
    } else {
      var rows = get(key.indexOf(".") < 0 ? "breakdowns." + key : key) || [];
      if (!rows.length) { el.style.display = "none"; return; }
      if (type === "pie") {
        opt = pie(rows);
      } else {
        el.style.height = Math.max(160, 28 * rows.length + 24) + "px";
        opt = hbar(rows);
      }
    }
    if (!opt) return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(opt);
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
