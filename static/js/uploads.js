// The asset library's upload zone: drop or choose several files; each is sent on its own
// XMLHttpRequest (two at a time) so it gets its own progress bar, and its tile joins the grid
// when the server has probed and stored it. Without this script the form posts all files.
(function () {
  var form = document.getElementById("upload-form");
  if (!form) return;
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("id_files");
  var list = document.getElementById("uploads");
  var grid = document.getElementById("asset-grid");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var queue = [];
  var running = 0;
  var PARALLEL = 2;

  function row(file) {
    var li = document.createElement("li");
    li.className = "upload";
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var status = document.createElement("span");
    status.className = "status muted small";
    status.textContent = "waiting";
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(status);
    list.appendChild(li);
    return { li: li, bar: bar, status: status };
  }

  function done(ui, ok, text) {
    ui.li.classList.add(ok ? "ok" : "error");
    ui.status.textContent = text;
    running -= 1;
    next();
  }

  // The server stops reading a file past the limit and closes the connection, which a
  // browser reports as a broken connection: say the real reason before sending.
  var maxBytes = Number(form.dataset.maxMb || 0) * 1024 * 1024;

  function send(item) {
    var ui = item.ui;
    if (maxBytes && item.file.size > maxBytes) {
      done(ui, false, "“" + item.file.name + "” is larger than " + form.dataset.maxMb +
        " MB, the most an upload may be.");
      return;
    }
    var data = new FormData();
    data.append("files", item.file);
    data.append("csrfmiddlewaretoken", token);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        ui.bar.value = Math.round((100 * event.loaded) / event.total);
        ui.status.textContent = ui.bar.value + "%";
      }
    };
    xhr.upload.onload = function () {
      ui.bar.value = 100;
      ui.status.textContent = "checking…";
    };
    xhr.onload = function () {
      var reply = null;
      try { reply = JSON.parse(xhr.responseText); } catch (e) { reply = null; }
      if (xhr.status === 200 && reply && reply.ok) {
        var empty = document.getElementById("no-assets");
        if (empty) empty.remove();
        grid.insertAdjacentHTML("afterbegin", reply.html);
        done(ui, true, reply.warning ? "added, but " + reply.warning.charAt(0).toLowerCase() +
          reply.warning.slice(1) : "added");
      } else {
        done(ui, false, (reply && reply.error) || "Upload failed (HTTP " + xhr.status + ").");
      }
    };
    xhr.onerror = function () { done(ui, false, "Upload failed: the connection broke."); };
    ui.status.textContent = "0%";
    xhr.send(data);
  }

  function next() {
    while (running < PARALLEL && queue.length) {
      running += 1;
      send(queue.shift());
    }
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (file) {
      queue.push({ file: file, ui: row(file) });
    });
    next();
  }

  input.addEventListener("change", function () {
    add(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.remove("over");
    });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
  });
})();
