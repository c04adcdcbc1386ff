// The book's cells, in the d2l.ai manner: each PyTorch cell and the Rust cell after it share
// one box with a tab per language (the reader's choice is kept across pages), and the output
// of the Rust cell sits right under it. With `?d2l-check` in the URL, the page also checks
// itself for `cargo xtask book --check` and writes the verdict into `<body data-d2l-check>`.
(function () {
  "use strict";
  var KEY = "d2l-burn-language";
  var LABELS = { python: "PyTorch", rust: "Rust" };

  function lang(el) {
    var code = el && el.tagName === "PRE" ? el.querySelector("code") : null;
    var m = code ? /language-(\w+)/.exec(code.className) : null;
    return m ? m[1] : null;
  }

  // Cells are regions of functions: strip their common indentation (after highlighting).
  function dedent(code) {
    var n = Infinity;
    code.textContent.split("\n").forEach(function (l) {
      if (l.trim()) n = Math.min(n, /^ */.exec(l)[0].length);
    });
    if (!n || n === Infinity) return;
    var walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    var todo = n, node;
    while ((node = walker.nextNode())) {
      var s = node.nodeValue, out = "";
      for (var i = 0; i < s.length; i++) {
        if (todo > 0 && s[i] === " ") { todo--; continue; }
        todo = s[i] === "\n" ? n : 0;
        out += s[i];
      }
      node.nodeValue = out;
    }
  }

  var cells = [];
  document.querySelectorAll("main pre").forEach(function (pre) {
    if (lang(pre) === "rust") dedent(pre.querySelector("code"));
    var next = pre.nextElementSibling;
    if (lang(pre) !== "python" || lang(next) !== "rust") return;
    var box = document.createElement("div");
    box.className = "d2l-cell";
    var bar = document.createElement("div");
    bar.className = "d2l-tabs";
    bar.setAttribute("role", "tablist");
    pre.parentNode.insertBefore(box, pre);
    box.appendChild(bar);
    [["python", pre], ["rust", next]].forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = LABELS[pair[0]];
      button.dataset.lang = pair[0];
      button.setAttribute("role", "tab");
      bar.appendChild(button);
      pair[1].classList.add("d2l-panel");
      pair[1].dataset.lang = pair[0];
      box.appendChild(pair[1]);
    });
    var out = box.nextElementSibling;
    if (lang(out) === "text") {
      out.classList.add("d2l-output");
      box.appendChild(out);
    }
    cells.push(box);
  });

  function show(language) {
    cells.forEach(function (cell) {
      cell.querySelectorAll(".d2l-tabs button").forEach(function (b) {
        var on = b.dataset.lang === language;
        b.classList.toggle("active", on);
        b.setAttribute("aria-selected", on ? "true" : "false");
      });
      cell.querySelectorAll(".d2l-panel").forEach(function (p) {
        p.classList.toggle("d2l-hidden", p.dataset.lang !== language);
      });
    });
  }

  function choose(language) {
    try { localStorage.setItem(KEY, language); } catch (e) { /* private mode: not kept */ }
    show(language);
  }

  var saved = null;
  try { saved = localStorage.getItem(KEY); } catch (e) { /* private mode */ }
  show(saved === "python" ? "python" : "rust");
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".d2l-tabs button") : null;
    if (button) choose(button.dataset.lang);
  });

  if (location.search.indexOf("d2l-check") < 0) return;
  // The self-check `cargo xtask book --check` reads back.
  var problems = [];
  var text = document.querySelector("main").textContent;
  if (text.indexOf("{{#") >= 0) problems.push("an unresolved mdBook directive");
  document.querySelectorAll("main pre").forEach(function (pre, i) {
    if (lang(pre) === "text" && !pre.textContent.trim()) problems.push("empty output block #" + i);
  });
  document.querySelectorAll("main img").forEach(function (img) {
    if (!img.complete || !img.naturalWidth) problems.push("image not loaded: " + img.getAttribute("src"));
  });
  cells.forEach(function (cell, i) {
    ["python", "rust", "python", "rust"].forEach(function (language) {
      cell.querySelector('.d2l-tabs button[data-lang="' + language + '"]').click();
      var shown = Array.prototype.filter.call(cell.querySelectorAll(".d2l-panel"), function (p) {
        return getComputedStyle(p).display !== "none";
      });
      if (shown.length !== 1 || shown[0].dataset.lang !== language) {
        problems.push("cell " + i + ": the " + LABELS[language] + " tab does not switch");
      }
    });
  });
  var stored = null;
  try { stored = localStorage.getItem(KEY); } catch (e) { stored = "rust"; }
  if (cells.length && stored !== "rust") problems.push("the tab choice is not remembered");
  document.body.setAttribute(
    "data-d2l-check",
    problems.length ? "FAIL " + problems.join("; ").replace(/"/g, "'") : "ok cells=" + cells.length
  );
})();
