// Draw every Plotly chart on the page from its JSON data block: an element with
// data-chart="ID" is drawn from <script type="application/json" id="ID">. Runs once the page
// has loaded and after htmx swaps new content in, so a filter change redraws the charts in
// place.
//
// Plotly's bundle is 4.8 MB of JavaScript, and compiling it took most of a first visit: the
// headline figures and tables waited behind it. So this script fetches Plotly itself, after the
// page's load event (the script tag names it: data-plotly="URL"), and draws the charts nearest
// the viewport first, then the others one per task so the page stays responsive. A page that
// loads Plotly with its own <script> tag still works: the charts are drawn as soon as it loads.
//
// After an htmx swap has *settled*, not before: while settling, htmx puts back the attributes
// the server sent on elements whose id it knew (id="annual" ...), which would strip the class
// Plotly adds to its chart and with it every style of the chart (title under the plot, an
// unstyled modebar, the page twice as tall).
(function () {
  "use strict";
  var script = document.currentScript;
  var plotlySource = script && script.dataset.plotly;
  var waiting = [];
  var loading = false;

  function withPlotly(callback) {
    if (window.Plotly) { callback(); return; }
    waiting.push(callback);
    if (loading || !plotlySource) { return; }
    loading = true;
    var tag = document.createElement("script");
    tag.src = plotlySource;
    tag.onload = function () {
      var callbacks = waiting;
      waiting = [];
      callbacks.forEach(function (f) { f(); });
    };
    document.head.appendChild(tag);
  }

  // A map whose layout carries meta.fit = [west, south, east, north] is fitted to the frame
  // it is drawn in, at every width: the zoom at which the extent's Web Mercator size fills
  // the plot area (MapLibre's world is 512 px wide at zoom 0), less a margin, and the centre
  // of the extent. Refitted when the window changes size.
  var FIT_MARGIN_PX = 16;

  function mercatorY(lat) {
    var s = Math.sin(Math.max(-85, Math.min(85, lat)) * Math.PI / 180);
    return Math.log((1 + s) / (1 - s)) / 2;
  }

  function fitMap(element) {
    var layout = element.layout || {};
    var fit = layout.meta && layout.meta.fit;
    var size = element._fullLayout && element._fullLayout._size;
    if (!fit || !size || !layout.map) { return; }
    var domain = (element._fullLayout.map && element._fullLayout.map.domain) || { x: [0, 1], y: [0, 1] };
    var width = size.w * (domain.x[1] - domain.x[0]) - 2 * FIT_MARGIN_PX;
    var height = size.h * (domain.y[1] - domain.y[0]) - 2 * FIT_MARGIN_PX;
    var west = fit[0], south = fit[1], east = fit[2], north = fit[3];
    var across = Math.max(east - west, 1e-5) / 360;
    var up = Math.max(mercatorY(north) - mercatorY(south), 1e-7) / (2 * Math.PI);
    var zoom = Math.log2(Math.min(width / (512 * across), height / (512 * up)));
    var middle = (mercatorY(north) + mercatorY(south)) / 2;
    var centre = {
      lon: (west + east) / 2,
      lat: (2 * Math.atan(Math.exp(middle)) - Math.PI / 2) * 180 / Math.PI
    };
    zoom = Math.max(0, Math.min(zoom, 16));
    Promise.resolve(window.Plotly.relayout(element, { "map.center": centre, "map.zoom": zoom }))
      .then(function () { element.dataset.fitted = String(Math.round(size.w)); });
  }

  function drawOne(element) {
    var source = document.getElementById(element.dataset.chart);
    if (!source || !element.isConnected) { return; }
    var figure = JSON.parse(source.textContent);
    var drawn = window.Plotly.react(element, figure.data, figure.layout || {},
      { responsive: true, displaylogo: false });
    element.dataset.drawn = "true";
    if (element.dataset.declutter !== undefined && !element.dataset.decluttering) {
      // After every drawing of it, the first and each one Plotly's responsive resize makes.
      element.dataset.decluttering = "true";
      element.on("plotly_afterplot", function () { declutter(element); });
      Promise.resolve(drawn).then(function () { declutter(element); });
    }
    if (figure.layout && figure.layout.meta && figure.layout.meta.fit) {
      element.dataset.fit = "true";
      Promise.resolve(drawn).then(function () { fitMap(element); });
    }
    if (figure.layout && figure.layout.meta && figure.layout.meta.labels) {
      var labels = figure.layout.meta.labels;
      Promise.resolve(drawn).then(function () { nameAreas(element, labels); });
    }
  }

  // A map's area names (layout.meta.labels: [name, lon, lat], the largest area first) are
  // written over it as HTML, kept at their places as the map moves, and one that would
  // overlap a larger area's name or run past the map's edge is hidden (every area is named
  // on hover too). Not a Plotly text trace: the map library fetches the glyphs of trace text
  // from a font server on the internet, which a deployment without internet, and the
  // pages' Content Security Policy, refuse.
  function nameAreas(element, labels) {
    var full = element._fullLayout;
    var subplot = full && full.map && full.map._subplot;
    var map = subplot && subplot.map;
    if (!map) { return; }
    var layer = element.querySelector(".area-names");
    if (!layer) {
      layer = document.createElement("div");
      layer.className = "area-names";
      layer.setAttribute("aria-hidden", "true");  // the table beside the map names them all
      element.appendChild(layer);
    }
    layer.textContent = "";
    var spans = labels.map(function (label) {
      var span = document.createElement("span");
      span.textContent = label[0];
      layer.appendChild(span);
      return span;
    });
    function place() {
      var size = element._fullLayout && element._fullLayout._size;
      if (!size) { return; }
      var domain = element._fullLayout.map.domain || { x: [0, 1], y: [0, 1] };
      var left = size.l + size.w * domain.x[0];
      var top = size.t + size.h * (1 - domain.y[1]);
      var width = size.w * (domain.x[1] - domain.x[0]);
      var height = size.h * (domain.y[1] - domain.y[0]);
      var shown = [];
      labels.forEach(function (label, i) {
        var span = spans[i];
        var point = map.project([label[1], label[2]]);
        span.style.display = "";
        span.style.left = (left + point.x) + "px";
        span.style.top = (top + point.y) + "px";
        var half = span.offsetWidth / 2, halfUp = span.offsetHeight / 2;
        var box = {
          left: point.x - half, right: point.x + half,
          top: point.y - halfUp, bottom: point.y + halfUp
        };
        var outside = box.left < 0 || box.right > width || box.top < 0 || box.bottom > height;
        var clash = outside || shown.some(function (other) {
          return box.left < other.right && other.left < box.right &&
            box.top < other.bottom && other.top < box.bottom;
        });
        if (clash) { span.style.display = "none"; } else { shown.push(box); }
      });
    }
    // The handlers call the latest drawing's placing (a redraw makes new names), once per map
    // object (Plotly may make a new one) and once per chart element.
    element._placeNames = place;
    function placeLatest() { if (element._placeNames) { element._placeNames(); } }
    if (!map._namesPlaced) {
      map._namesPlaced = true;
      map.on("move", placeLatest);
    }
    if (!element.dataset.named) {
      element.dataset.named = "true";
      element.on("plotly_afterplot", placeLatest);
    }
    place();
  }

  // A chart with data-declutter shows no text label over another: labels are taken in the
  // order the figure lists them (the most important first) and one that would overlap a label
  // already shown, or run past the chart's edge, is hidden; its name stays on hover. Redone
  // after every drawing.
  function declutter(element) {
    var shown = [];
    var frame = element.getBoundingClientRect();
    element.querySelectorAll(".textpoint text").forEach(function (label) {
      label.style.display = "";
      var box = label.getBoundingClientRect();
      var cut = box.left < frame.left || box.right > frame.right;  // would be clipped
      var clash = box.width === 0 || cut || shown.some(function (other) {
        return box.left < other.right && other.left < box.right &&
          box.top < other.bottom && other.top < box.bottom;
      });
      if (clash) { label.style.display = "none"; } else { shown.push(box); }
    });
  }

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    // After Plotly's own responsive resize has laid the plot out anew.
    resizing = setTimeout(function () {
      document.querySelectorAll("[data-fit]").forEach(fitMap);
    }, 250);
  });

  function distanceFromView(element) {
    var box = element.getBoundingClientRect();
    if (box.top > window.innerHeight) { return box.top - window.innerHeight; }
    if (box.bottom < 0) { return -box.bottom; }
    return 0;
  }

  function draw(root) {
    var elements = Array.prototype.slice.call(root.querySelectorAll("[data-chart]"));
    if (root.dataset && root.dataset.chart) { elements.unshift(root); }
    elements.sort(function (a, b) { return distanceFromView(a) - distanceFromView(b); });
    (function next() {
      var element = elements.shift();
      if (!element) { return; }
      drawOne(element);
      if (elements.length) { setTimeout(next, 0); }
    })();
  }

  function drawWhenLoaded() { withPlotly(function () { draw(document); }); }
  if (document.readyState === "complete") { drawWhenLoaded(); }
  else { window.addEventListener("load", drawWhenLoaded); }
  document.addEventListener("htmx:afterSettle", function (event) {
    withPlotly(function () { draw(event.target); });
  });
  // Printing draws at once every chart not drawn yet (Plotly draws synchronously).
  window.addEventListener("beforeprint", function () {
    if (window.Plotly) {
      document.querySelectorAll("[data-chart]:not([data-drawn])").forEach(drawOne);
    }
  });
})();
