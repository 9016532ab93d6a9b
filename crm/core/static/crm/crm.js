// Small progressive enhancements; every page works without them.

// Pickers: long selects become searchable (Tom Select), also after htmx swaps.
function crmEnhance(root) {
  // Django's "---------" empty choice reads as "All" in filters and "Choose…" in forms.
  root.querySelectorAll("[data-empty-label]").forEach(function (scope) {
    scope.querySelectorAll('select option[value=""]').forEach(function (opt) {
      if (/^-+$/.test(opt.textContent.trim())) opt.textContent = scope.dataset.emptyLabel;
    });
    // In list filters a yes/no filter's "unknown" means "any".
    if (scope.id === "list-filters") {
      scope.querySelectorAll('select option[value="unknown"]').forEach(function (opt) {
        opt.textContent = scope.dataset.emptyLabel;
      });
    }
  });
  root.querySelectorAll("select.form-select:not(.tomselected):not([multiple])").forEach(function (el) {
    if (el.options.length > 12 && window.TomSelect) new TomSelect(el, { maxOptions: 500 });
  });
}

// Mobile sidebar: open and close with the menu button or the backdrop.
function crmToggleSidebar(force) {
  var sidebar = document.getElementById("sidebar");
  var backdrop = document.getElementById("sidebar-backdrop");
  if (!sidebar) return;
  var open = typeof force === "boolean" ? force : !sidebar.classList.contains("open");
  sidebar.classList.toggle("open", open);
  if (backdrop) backdrop.classList.toggle("open", open);
}

// Client-side row filter for long tables that are not paginated (price list lines).
function crmFilterTable(input) {
  var table = document.getElementById(input.dataset.crmFilterTable);
  if (!table) return;
  var term = input.value.trim().toLowerCase();
  table.querySelectorAll("tbody tr[data-row]").forEach(function (row) {
    row.hidden = term !== "" && row.textContent.toLowerCase().indexOf(term) === -1;
  });
}

document.addEventListener("DOMContentLoaded", function () {
  crmEnhance(document);
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-crm-toggle=sidebar]")) crmToggleSidebar();
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") crmToggleSidebar(false);
  });
  document.addEventListener("input", function (e) {
    if (e.target.matches("[data-crm-filter-table]")) crmFilterTable(e.target);
  });
  // Open the tab named in the URL hash (#tab-history), so links and reloads keep the tab.
  if (/^#[\w-]+$/.test(location.hash) && window.bootstrap) {
    var trigger = document.querySelector('[data-bs-toggle="tab"][data-bs-target="' + location.hash + '"]');
    if (trigger) bootstrap.Tab.getOrCreateInstance(trigger).show();
  }
  document.addEventListener("shown.bs.tab", function (e) {
    var target = e.target.getAttribute("data-bs-target");
    if (target && history.replaceState) history.replaceState(null, "", target);
  });
});
// afterSettle, not afterSwap: htmx's settle step restores attributes of elements that keep
// their ids, which would undo the enhancement.
document.body.addEventListener("htmx:afterSettle", function (e) { crmEnhance(e.target); });

// Permission grids: a header checkbox ticks or clears its whole column.
document.addEventListener("change", function (e) {
  var all = e.target.closest("[data-crm-check-all]");
  if (!all) return;
  var grid = all.closest("[data-crm-checkgrid]");
  if (!grid) return;
  grid.querySelectorAll('input[data-crm-col="' + all.dataset.crmCheckAll + '"]').forEach(function (box) {
    if (!box.disabled) box.checked = all.checked;
  });
});

// Language switch: come back to the page as it is now (htmx may have changed the URL).
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (!form.classList || !form.classList.contains("crm-lang-switch")) return;
  var next = form.querySelector('input[name="next"]');
  if (next) next.value = location.pathname + location.search;
});

// List requests leave out empty filters, so addresses stay short and shareable.
document.addEventListener("htmx:configRequest", function (e) {
  var elt = e.detail.elt;
  if (e.detail.verb !== "get" || !elt || !elt.closest("#list-filters, #list-results")) return;
  var data = e.detail.formData;
  if (!data) return;
  var names = [];
  data.forEach(function (value, name) { if (names.indexOf(name) === -1) names.push(name); });
  names.forEach(function (name) {
    if (data.getAll(name).every(function (v) { return v === ""; })) delete e.detail.parameters[name];
  });
});

// Small screens: filters fold away behind a button; open when one is set.
document.addEventListener("click", function (e) {
  var button = e.target.closest("[data-crm-toggle=filters]");
  if (!button) return;
  var form = document.getElementById("list-filters");
  if (form) button.setAttribute("aria-expanded", form.classList.toggle("crm-filters-open"));
});

// Bar charts (ECharts, loaded only by the pages that draw one): <div data-crm-chart="data-id">
// with the data in a json_script [{name, value}, …].
function crmCharts(root) {
  if (!window.echarts) return;
  root.querySelectorAll("[data-crm-chart]").forEach(function (el) {
    var source = document.getElementById(el.dataset.crmChart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    el.style.height = Math.max(160, 30 * data.length + 40) + "px";
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      grid: { left: 8, right: 36, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1, axisLabel: { color: "#98a2b3" }, splitLine: { lineStyle: { color: "#eef1f5" } } },
      yAxis: {
        type: "category", inverse: true, data: data.map(function (d) { return d.name; }),
        axisTick: { show: false }, axisLine: { lineStyle: { color: "#d0d5dd" } }, axisLabel: { color: "#475467" }
      },
      series: [{
        type: "bar", data: data.map(function (d) { return d.value; }), barMaxWidth: 16,
        itemStyle: { color: "#1f6feb", borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: "right", color: "#475467" }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
}
document.addEventListener("DOMContentLoaded", function () { crmCharts(document); });
