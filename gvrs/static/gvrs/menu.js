// The site menu folds into a "Menu" button on narrow screens. Hooked on data-menu (the
// header), data-menu-button and data-menu-items. Without JavaScript the menu is simply shown
// and wraps; with it, the header gets the class menu-folds and the CSS folds it.
(function () {
  "use strict";
  document.querySelectorAll("[data-menu]").forEach(function (header) {
    var button = header.querySelector("[data-menu-button]");
    var items = header.querySelector("[data-menu-items]");
    if (!button || !items) return;
    header.classList.add("menu-folds");
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      header.classList.toggle("menu-open", open);
    });
  });
})();
