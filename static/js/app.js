// Live "elapsed" counters: the server renders the start time; this ticks it every second
// between htmx refreshes.
(function () {
  function fmt(total) {
    total = Math.max(0, Math.floor(total));
    if (total < 60) return total + " s";
    var s = total % 60;
    return Math.floor(total / 60) + " min " + (s < 10 ? "0" : "") + s + " s";
  }
  function tick() {
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(since)) el.textContent = fmt((Date.now() - since) / 1000);
    });
  }
  setInterval(tick, 1000);
})();

// Forms with data-confirm ask before they are sent (the CSP bars inline handlers).
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});

// A button with data-needs="<field id>" (Reject in the review queue) is not sent while that
// field is empty: the reason shows beside the item, not at the top of the page. The server
// refuses it too.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("button[data-needs]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-needs"));
  var error = document.getElementById(button.getAttribute("data-needs") + "-error");
  if (field && !field.value.trim()) {
    event.preventDefault();
    if (error) error.hidden = false;
    field.setAttribute("aria-invalid", "true");
    field.focus();
  } else if (error) {
    error.hidden = true;
  }
});
