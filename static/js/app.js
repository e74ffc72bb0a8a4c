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

// The cost estimate counts reference video seconds, and some prices depend on whether there
// are reference files at all: for library files the server knows both; for files chosen for
// upload this reads how many there are and each video's length (metadata only) into the
// hidden upload_files / upload_video_seconds fields, whose change re-prices the form. The
// submit is held at exactly the estimate shown, or refused with the new figure when the
// server measures an uploaded file differently (services/billing.py PriceChanged).
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input || input.type !== "file" || !input.closest("#references")) return;
  var seconds = document.getElementById("id_upload_video_seconds");
  var count = document.getElementById("id_upload_files");
  if (!seconds || !count) return;
  var all = Array.prototype.slice.call(document.querySelectorAll("#references input[type=file]"));
  count.value = all.reduce(function (n, el) { return n + (el.files ? el.files.length : 0); }, 0);
  var videos = all.filter(function (el) { return el.name === "reference_video_files"; })
    .reduce(function (list, el) { return list.concat(Array.prototype.slice.call(el.files || [])); }, []);
  Promise.all(videos.map(function (file) {
    return new Promise(function (resolve) {
      var video = document.createElement("video");
      var url = URL.createObjectURL(file);
      video.preload = "metadata";
      video.onloadedmetadata = function () { URL.revokeObjectURL(url); resolve(video.duration || 0); };
      video.onerror = function () { URL.revokeObjectURL(url); resolve(0); };
      video.src = url;
    });
  })).then(function (lengths) {
    var total = lengths.reduce(function (a, b) { return a + (isFinite(b) ? b : 0); }, 0);
    seconds.value = total > 0 ? total.toFixed(3) : "";
    seconds.dispatchEvent(new Event("change", { bubbles: true }));
  });
});

// The prompt's live counter: characters typed against the model's limit (data-limit on the
// box, from the capability table), marked when over. Nothing is cut: the server says no.
document.addEventListener("input", function (event) {
  var box = event.target;
  if (!box || box.id !== "id_prompt") return;
  var count = document.getElementById("prompt-count");
  var limit = Number(box.getAttribute("data-limit") || 0);
  if (!count || !limit) return;
  count.textContent = box.value.length + " / " + limit + " characters" +
    (box.value.length > limit ? ": too long for this model" : "");
  count.classList.toggle("field-error", box.value.length > limit);
});
