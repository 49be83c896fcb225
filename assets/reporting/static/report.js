/* Language switch (remembered; also carried in links as ?lang=) and table filters. No network, no server. */
(function () {
  "use strict";
  var KEY = "doisoat-lang";
  function current() { return document.documentElement.classList.contains("lang-en") ? "en" : "vi"; }
  function setLang(lang) {
    var root = document.documentElement;
    root.classList.remove("lang-vi", "lang-en");
    root.classList.add("lang-" + lang);
    root.lang = lang;
    try { localStorage.setItem(KEY, lang); } catch (e) { /* storage may be off for file:// */ }
    document.querySelectorAll("a[data-internal]").forEach(function (a) {
      var href = a.getAttribute("href").replace(/([?&])lang=(vi|en)&?/, "$1").replace(/[?&]$/, "");
      var hash = "";
      var i = href.indexOf("#");
      if (i >= 0) { hash = href.slice(i); href = href.slice(0, i); }
      a.setAttribute("href", href + (href.indexOf("?") >= 0 ? "&" : "?") + "lang=" + lang + hash);
    });
    if (window.Plotly) {
      document.querySelectorAll(".js-plotly-plot").forEach(function (el) {
        if (el.offsetParent !== null) { window.Plotly.Plots.resize(el); }
      });
    }
  }
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  function wireFilter(input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    var select = document.querySelector("select[data-filter='" + input.getAttribute("data-filter") + "']");
    var counter = document.querySelector("[data-count='" + input.getAttribute("data-filter") + "']");
    function apply() {
      var needle = fold(input.value.trim());
      var rule = select ? select.value : "";
      var shown = 0;
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var ok = (!needle || fold(tr.textContent).indexOf(needle) >= 0) &&
                 (!rule || tr.getAttribute("data-rule") === rule);
        tr.style.display = ok ? "" : "none";
        if (ok) { shown += 1; }
      });
      if (counter) { counter.textContent = shown.toLocaleString(current() === "vi" ? "vi-VN" : "en-US"); }
    }
    input.addEventListener("input", apply);
    if (select) { select.addEventListener("change", apply); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    setLang(current());
    var button = document.getElementById("lang-switch");
    if (button) { button.addEventListener("click", function () { setLang(current() === "vi" ? "en" : "vi"); }); }
    document.querySelectorAll("input[data-filter]").forEach(wireFilter);
  });
})();
