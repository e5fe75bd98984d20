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
  function press(key) {
    var all = items();
    var item = all[current < 0 ? 0 : current];
    if (!item) { return; }
    var button = item.querySelector("button[data-key='" + key + "']");
    if (button && button.form) {
      if (button.form.requestSubmit) { button.form.requestSubmit(button); } else { button.click(); }
    }
  }
  document.addEventListener("keydown", function (e) {
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
