// Polltelligence embed helper for host pages: add once, after any number of poll iframes.
// Each widget reports its height; this sets the height of the frame it came from.
(function () {
  "use strict";
  if (window.polltelligenceEmbed) return;
  window.polltelligenceEmbed = true;
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "polltelligence:resize") return;
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0) return;
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.min(Math.ceil(height), 5000) + "px";
      }
    }
  });
})();
