// The report: every control with data-start seeks the one <audio> element there and plays;
// with data-end it stops at the end of that sentence. The sentence being played is marked.
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player) return;
  var stopAt = null;
  var sentences = Array.prototype.slice.call(document.querySelectorAll("button.sentence"));

  function seek(start, end) {
    var go = function () {
      player.currentTime = start;
      stopAt = isFinite(end) && end > start ? end : null;
      var playing = player.play();
      if (playing && playing.catch) playing.catch(function () {});
    };
    if (player.readyState >= 1) go();
    else {
      player.addEventListener("loadedmetadata", go, { once: true });
      player.load();
    }
  }

  document.addEventListener("click", function (event) {
    var control = event.target.closest("[data-start]");
    if (!control || control.disabled) return;
    seek(parseFloat(control.dataset.start), parseFloat(control.dataset.end));
  });

  player.addEventListener("timeupdate", function () {
    var t = player.currentTime;
    if (stopAt !== null && t >= stopAt) {
      player.pause();
      stopAt = null;
    }
    sentences.forEach(function (b) {
      var inside = t >= parseFloat(b.dataset.start) && t < parseFloat(b.dataset.end);
      if (inside) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    });
  });
  // Moving the slider by hand ends a "play this sentence".
  player.addEventListener("seeking", function () {
    if (stopAt !== null && (player.currentTime > stopAt + 0.5)) stopAt = null;
  });
})();
