// Pickers: long selects become searchable (Tom Select), also after htmx swaps.
function crmEnhance(root) {
  root.querySelectorAll("select.form-select:not(.tomselected):not([multiple])").forEach(function (el) {
    if (el.options.length > 12 && window.TomSelect) new TomSelect(el, { maxOptions: 500 });
  });
}
document.addEventListener("DOMContentLoaded", function () { crmEnhance(document); });
document.body.addEventListener("htmx:afterSwap", function (e) { crmEnhance(e.target); });
