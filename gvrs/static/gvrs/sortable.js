// Sort a table by a column: tables marked data-sortable, headings with data-sort="number" or
// "text"; a cell's data-value, when present, is what is compared. Each sortable heading gets a
// button (so Tab reaches it and Enter or Space sorts, as a mouse click does), and the heading
// carries aria-sort for screen readers. Rows in <tfoot> (totals) stay where they are.
(function () {
  "use strict";
  function value(row, index, kind) {
    var cell = row.children[index];
    if (!cell) { return kind === "number" ? -Infinity : ""; }
    var raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    if (kind === "number") {
      // Whole numbers as either language groups them ("1,234", "12 345"); a label ("fewer
      // than 11", "suppressed") sorts below every number.
      var n = parseFloat(cell.dataset.value !== undefined ? raw : raw.replace(/[,\s\u00a0]/g, ""));
      return isNaN(n) ? -Infinity : n;
    }
    return raw.toLowerCase();
  }
  function sort(table, heading) {
    var index = Array.prototype.indexOf.call(heading.parentNode.children, heading);
    var kind = heading.dataset.sort;
    var descending = heading.getAttribute("aria-sort") !== "descending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, index, kind), y = value(b, index, kind);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    heading.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  function enhance(root) {
    root.querySelectorAll("table[data-sortable] th[data-sort]").forEach(function (th) {
      if (th.querySelector("button.sort")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
    });
  }
  document.addEventListener("click", function (event) {
    var heading = event.target.closest("table[data-sortable] th[data-sort]");
    if (heading) { sort(heading.closest("table"), heading); }
  });
  function ready() { enhance(document); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); }
  else { ready(); }
  document.addEventListener("htmx:afterSettle", function (event) { enhance(event.target); });
})();
