// Sort a table by a column when its heading is clicked: tables marked data-sortable, headings
// with data-sort="number" or "text"; a cell's data-value, when present, is what is compared.
(function () {
  "use strict";
  function value(row, index, kind) {
    var cell = row.children[index];
    if (!cell) { return kind === "number" ? -Infinity : ""; }
    var raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    if (kind === "number") {
      var n = parseFloat(raw);
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
  document.addEventListener("click", function (event) {
    var heading = event.target.closest("table[data-sortable] th[data-sort]");
    if (heading) { sort(heading.closest("table"), heading); }
  });
})();
