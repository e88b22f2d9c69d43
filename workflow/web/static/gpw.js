/* gpw dashboard: draws the project's state diagram with the vendored mermaid (no network).
   The diagram's text is in <pre class="mermaid">; securityLevel "strict" keeps labels as text. */
(function () {
  "use strict";
  var blocks = document.querySelectorAll("pre.mermaid");
  if (!blocks.length || typeof window.mermaid === "undefined") {
    return;
  }
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    theme: "neutral",
    fontFamily: '"Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif',
    state: { useMaxWidth: true },
  });
  window.mermaid.run({ nodes: blocks }).then(function () {
    blocks.forEach(function (block) { block.setAttribute("data-drawn", "1"); });
  }).catch(function () {
    // the text stays on the page (the <details> below it shows it too)
    blocks.forEach(function (block) { block.setAttribute("data-drawn", "0"); });
  });
})();
