// Storyboard page (issue 15): drag a shot by its handle to reorder; the new order is POSTed
// with htmx and the board comes back re-rendered (numbers, chains). Bound again whenever htmx
// swaps the board in (it is polled while takes render).
(function () {
  function bind(root) {
    var list = root.querySelector ? root.querySelector("#shots") : null;
    if (!list && root.id === "shots") list = root;
    if (!list || list.sortable || !window.Sortable) return;
    list.sortable = window.Sortable.create(list, {
      handle: ".handle",
      draggable: "li.shot",
      dataIdAttr: "data-id",
      animation: 120,
      // Pointer events rather than HTML5 drag and drop: the same on touch screens, and
      // what automated browsers can drive.
      forceFallback: true,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        window.htmx.ajax("POST", list.getAttribute("data-order-url"), {
          source: list,
          target: "#board",
          swap: "outerHTML",
          values: { order: list.sortable.toArray().join(",") },
        });
      },
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    bind(document);
    if (window.htmx) window.htmx.onLoad(function (el) { bind(el.parentNode || el); });
  });
})();

// The board is polled while takes render; a poll must not replace a shot's form while it is
// being edited, nor the list while a shot is being dragged: skip that poll, the next comes
// 2 s later.
document.addEventListener("htmx:beforeRequest", function (event) {
  var elt = event.detail && event.detail.elt;
  if (!elt || elt.id !== "board" || event.detail.requestConfig.verb !== "get") return;
  var active = document.activeElement;
  var editing = active && active.closest && active.closest("#board form");
  var dragging = elt.querySelector(".sortable-chosen, .sortable-drag");
  if (editing || dragging) event.preventDefault();
});
