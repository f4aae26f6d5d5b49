// Polltelligence widget (inside the frame): tells the host page its height, and keeps the
// results current from the live event stream. Voting is a plain form and needs no script.
(function () {
  "use strict";
  var root = document.documentElement;
  var slug = root.getAttribute("data-slug");
  var last = 0;
  function report() {
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (window.parent === window || height === last) return;
    last = height;
    window.parent.postMessage({ type: "polltelligence:resize", slug: slug, height: height }, "*");
  }
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
  window.addEventListener("load", report);
  report();

  var results = document.querySelector("[data-live]");
  if (!results || !window.EventSource) return;
  // A multiple-choice poll counts readers; its percents are of readers (as the server wrote).
  var readers = results.getAttribute("data-counted") === "readers";
  var word = readers ? "reader" : "vote";
  function votes(n) { return n === 1 ? "1 " + word : n + " " + word + "s"; }
  function total(n) { return votes(n) + (readers ? " \u00b7 % who picked each" : " in total"); }
  var source = new EventSource(results.getAttribute("data-live"));
  source.addEventListener("results", function (event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    var rows = results.querySelectorAll("[data-option]");
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i], id = row.getAttribute("data-option");
      for (var j = 0; j < data.options.length; j++) {
        var o = data.options[j];
        if (o.id !== id) continue;
        row.querySelector(".bar-figures").textContent = o.percent.toFixed(1) + "% \u00b7 " + votes(o.votes);
        row.querySelector(".bar-fill").style.width = Math.min(o.percent, 100).toFixed(1) + "%";
      }
    }
    results.querySelector(".total").textContent = total(data.total_votes);
    if (data.status === "closed") {
      results.querySelector(".results-title").textContent = "Final results";
      source.close();
    }
  });
})();
