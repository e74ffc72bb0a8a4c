// The compare page of a variation batch (templates/projects/variation_compare.html): every
// take's video plays in sync. One button plays or pauses all, one range seeks all; playing,
// pausing or seeking any one take does the same to the others. Each take starts muted and
// has its own Unmute button. The takes are redrawn by htmx while some still render, so the
// handlers are delegated from the document and the videos looked up each time.
(function () {
  var DRIFT = 0.15; // seconds a take may run apart from the first before it is pulled back

  function videos() {
    return Array.prototype.slice.call(document.querySelectorAll("#compare video.take-video"));
  }
  function leader() {
    return videos()[0] || null;
  }
  function length() {
    var lengths = videos()
      .map(function (v) { return v.duration; })
      .filter(function (d) { return isFinite(d) && d > 0; });
    return lengths.length ? Math.min.apply(null, lengths) : 0;
  }
  // A seek made here to follow another take is marked, so its "seeked" is not passed on.
  function setTime(video, time) {
    video.syncSeek = true;
    video.currentTime = time;
  }
  function seekAll(time, except) {
    videos().forEach(function (v) {
      if (v !== except && Math.abs(v.currentTime - time) > 0.05) setTime(v, time);
    });
  }
  function playAll() {
    videos().forEach(function (v) {
      if (v.paused) {
        var started = v.play();
        if (started && started.catch) started.catch(function () {});
      }
    });
  }
  function pauseAll() {
    videos().forEach(function (v) { if (!v.paused) v.pause(); });
  }
  function showState() {
    var button = document.getElementById("compare-play");
    var first = leader();
    if (!button) return;
    var playing = first !== null && !first.paused;
    button.textContent = playing ? "Pause all" : "Play all";
    button.setAttribute("aria-pressed", playing ? "true" : "false");
  }
  function showTime() {
    var first = leader();
    var seek = document.getElementById("compare-seek");
    var label = document.getElementById("compare-time");
    if (!first || !seek || !label) return;
    var total = length();
    if (total && document.activeElement !== seek) {
      seek.value = String(Math.round((first.currentTime / total) * 1000));
    }
    label.textContent = first.currentTime.toFixed(1) + " s" + (total ? " / " + total.toFixed(1) + " s" : "");
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) return;
    if (target.closest("#compare-play")) {
      var first = leader();
      if (first && first.paused) {
        seekAll(first.currentTime >= length() ? 0 : first.currentTime, null);
        playAll();
      } else {
        pauseAll();
      }
      return;
    }
    var unmute = target.closest(".take-unmute");
    if (unmute) {
      var take = unmute.closest(".take");
      var video = take && take.querySelector("video.take-video");
      if (!video) return;
      video.muted = !video.muted; // "volumechange" relabels the button
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.id !== "compare-seek") return;
    var time = (Number(event.target.value) / 1000) * length();
    videos().forEach(function (v) { setTime(v, time); });
    showTime();
  });

  // Media events do not bubble: listen in the capture phase.
  document.addEventListener("play", function (event) {
    if (event.target.matches && event.target.matches("video.take-video")) {
      playAll();
      showState();
    }
  }, true);
  document.addEventListener("pause", function (event) {
    if (event.target.matches && event.target.matches("video.take-video")) {
      pauseAll();
      showState();
    }
  }, true);
  document.addEventListener("seeked", function (event) {
    var video = event.target;
    if (!(video.matches && video.matches("video.take-video"))) return;
    if (video.syncSeek) {
      video.syncSeek = false;
    } else {
      seekAll(video.currentTime, video);
    }
    showTime();
  }, true);
  document.addEventListener("timeupdate", function (event) {
    var first = leader();
    if (event.target !== first) return;
    showTime();
    if (!first.paused) {
      videos().forEach(function (v) {
        if (v !== first && Math.abs(v.currentTime - first.currentTime) > DRIFT) {
          setTime(v, first.currentTime);
        }
      });
    }
  }, true);
  document.addEventListener("volumechange", function (event) {
    var video = event.target;
    var take = video.closest && video.closest(".take");
    var button = take && take.querySelector(".take-unmute");
    if (!button) return;
    button.textContent = video.muted ? "Unmute" : "Mute";
    button.setAttribute("aria-pressed", video.muted ? "false" : "true");
  }, true);
  document.addEventListener("ended", function (event) {
    if (event.target === leader()) {
      pauseAll();
      showState();
    }
  }, true);
})();
