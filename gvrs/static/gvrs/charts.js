// Draw every Plotly chart on the page from its JSON data block: an element with
// data-chart="ID" is drawn from <script type="application/json" id="ID">. Runs on load and
// after htmx swaps new content in, so a filter change redraws the charts in place.
// After the swap has *settled*, not before: while settling, htmx puts back the attributes the
// server sent on elements whose id it knew (id="annual" ...), which would strip the class
// Plotly adds to its chart and with it every style of the chart (title under the plot, an
// unstyled modebar, the page twice as tall).
(function () {
  "use strict";
  function draw(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.dataset.chart);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.react(element, figure.data, figure.layout || {},
        { responsive: true, displaylogo: false });
      element.dataset.drawn = "true";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
