// Typesets the formulas that pymdownx.arithmatex marks (class "arithmatex") with the KaTeX
// bundled in assets/katex/: nothing is fetched from the network.
(function () {
  function typeset(root) {
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      var tex = el.textContent.trim();
      var display = el.tagName === "DIV";
      tex = display ? tex.replace(/^\\\[|\\\]$/g, "") : tex.replace(/^\\\(|\\\)$/g, "");
      katex.render(tex, el, { displayMode: display, throwOnError: false });
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { typeset(document.body); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { typeset(document.body); });
  }
})();
