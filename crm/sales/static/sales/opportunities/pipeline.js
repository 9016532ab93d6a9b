// Pipeline board: drag a card onto another stage's column to move it (htmx POST to the
// move endpoint, which answers the whole board with fresh cards and totals). Dropping on
// a won or lost zone first asks for the reason. A refused move (stale card, missing
// reason, out of scope) still answers the current board, with the message on top.
(function () {
  "use strict";
  var dragged = null;

  function board() { return document.getElementById("pipeline-board"); }

  function filters() {
    var values = {};
    var form = document.getElementById("pipeline-filters");
    if (form) new FormData(form).forEach(function (v, k) { values[k] = v; });
    return values;
  }

  function targetOf(el) { return el && el.closest ? el.closest(".pipeline-column, .pipeline-zone") : null; }

  function move(card, stage) {
    var values = filters();
    values.opportunity = card.dataset.id;
    values.version = card.dataset.version;
    values.stage = stage;
    card.classList.add("pipeline-card-moving");
    htmx.ajax("POST", board().dataset.moveUrl, { target: "#pipeline-board", swap: "outerHTML", values: values });
  }

  function askReason(card, zone) {
    var form = document.getElementById("pipeline-close-form");
    var kind = zone.dataset.kind;
    form.elements.opportunity.value = card.dataset.id;
    form.elements.version.value = card.dataset.version;
    form.elements.stage.value = zone.dataset.stage;
    form.elements.reason.value = "";
    form.elements.lost_to.value = "";
    var title = document.getElementById("pipeline-close-title");
    title.textContent = title.dataset[kind] || title.textContent;
    document.getElementById("pipeline-close-name").textContent = card.dataset.name;
    document.getElementById("pipeline-close-lost-to").hidden = kind !== "lost";
    var modal = bootstrap.Modal.getOrCreateInstance(document.getElementById("pipeline-close"));
    modal.show();
    setTimeout(function () { form.elements.reason.focus(); }, 300);
  }

  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".pipeline-card[draggable=true]");
    if (!card) return;
    dragged = card;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.id);
    card.classList.add("pipeline-card-dragging");
    board().classList.add("pipeline-dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("pipeline-card-dragging");
    var b = board();
    if (b) b.classList.remove("pipeline-dragging");
    document.querySelectorAll(".pipeline-over").forEach(function (el) { el.classList.remove("pipeline-over"); });
    dragged = null;
  });

  document.addEventListener("dragover", function (e) {
    var target = targetOf(e.target);
    if (!dragged || !target) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".pipeline-over").forEach(function (el) { if (el !== target) el.classList.remove("pipeline-over"); });
    target.classList.add("pipeline-over");
  });

  document.addEventListener("drop", function (e) {
    var target = targetOf(e.target);
    if (!dragged || !target) return;
    e.preventDefault();
    var card = dragged;
    target.classList.remove("pipeline-over");
    if (target.dataset.stage === card.dataset.stage) return;
    if (target.dataset.kind === "open") {
      target.querySelector(".pipeline-cards").prepend(card);
      move(card, target.dataset.stage);
    } else {
      askReason(card, target);
    }
  });

  // A refused move answers the current board with the reason: show it instead of
  // keeping the card where it was dropped.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status;
    if (e.detail.target && e.detail.target.id === "pipeline-board" && [400, 403, 404, 409].indexOf(status) !== -1) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail.elt && e.detail.elt.id === "pipeline-close-form") {
      var modal = bootstrap.Modal.getInstance(document.getElementById("pipeline-close"));
      if (modal) modal.hide();
    }
  });
})();
