// The console's keyboard and its self-updating counts; every page works without this file.
(function () {
  "use strict";
  var items = function () { return Array.prototype.slice.call(document.querySelectorAll(".item[data-comment-id]")); };
  var current = -1;
  function select(i) {
    var all = items();
    if (!all.length) { return; }
    current = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (el, n) { el.classList.toggle("current", n === current); });
    all[current].focus();
    all[current].scrollIntoView({ block: "nearest" });
  }
  function submit(form, key) {
    var button = form.querySelector("button[data-key='" + key + "']");
    if (!button) { return; }
    if (form.requestSubmit) { form.requestSubmit(button); } else { button.click(); }
  }
  // `a` approves at once; `h` and `d` restrict, so they open the statement of reasons and wait:
  // Enter in one of its fields (Ctrl+Enter in the explanation) confirms, Escape cancels.
  function press(key) {
    var all = items();
    var item = all[current < 0 ? 0 : current];
    var form = item && item.querySelector("form.decision");
    if (!form) { return; }
    if (key === "a") { submit(form, key); return; }
    var details = form.querySelector("details");
    if (details) { details.open = true; }
    form.setAttribute("data-pending", key);
    var first = form.querySelector("select, input:not([type=hidden]), textarea");
    if (first) { first.focus(); }
  }
  function inStatement(e) {
    var t = e.target;
    var form = t && t.closest && t.closest("form.decision");
    if (!form || !/^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) { return false; }
    var pending = form.getAttribute("data-pending");
    if (e.key === "Escape" && pending) {
      form.removeAttribute("data-pending");
      select(items().indexOf(form.closest(".item")));
    } else if (e.key === "Enter" && (t.tagName !== "TEXTAREA" || e.ctrlKey || e.metaKey)) {
      // Never the form's first button (approve) by a stray Enter.
      if (pending) { submit(form, pending); }
    } else {
      return true;
    }
    e.preventDefault();
    return true;
  }
  document.addEventListener("keydown", function (e) {
    if (inStatement(e)) { return; }
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) { return; }
    var keys = document.getElementById("keys");
    switch (e.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "a": case "h": case "d": press(e.key); break;
      case "?": if (keys) { keys.hidden = !keys.hidden; } break;
      case "Escape": if (keys) { keys.hidden = true; } break;
      default: return;
    }
    e.preventDefault();
  });
  function refresh() {
    if (!document.querySelector("[data-count]")) { return; }
    fetch("/console/counts", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (counts) {
        if (!counts) { return; }
        Object.keys(counts).forEach(function (tab) {
          var el = document.querySelector("[data-count='" + tab + "']");
          if (el) { el.textContent = String(counts[tab]); }
        });
      })
      .catch(function () {});
  }
  setInterval(refresh, 15000);
})();
