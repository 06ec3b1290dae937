// Updates status badges, progress bars and durations of queued and running rows on the long
// callback changelist, by polling the admin's progress/ endpoint for the visible rows only.
(function () {
  "use strict";

  var POLL_MS = 1500;

  function activeBars() {
    return Array.prototype.slice.call(document.querySelectorAll('.lc-progress[data-lc-active="1"]'));
  }

  function updateRow(bar, data) {
    var row = bar.closest("tr");
    var fill = bar.querySelector(".lc-progress-bar");
    var label = bar.querySelector(".lc-progress-label");
    var current = data.progress_current;
    var total = data.progress_total;
    var percent = data.status === "succeeded" ? 100 : 0;
    if (current !== null && total) {
      percent = Math.floor((100 * current) / total);
    }
    fill.style.width = percent + "%";
    var amount = "";
    if (current !== null) {
      amount = total ? percent + "%" : current.toLocaleString("en-US");
    }
    label.textContent = amount + " " + (data.progress_message || "");
    if (current !== null) {
      bar.title = total ? current.toLocaleString("en-US") + " of " + total.toLocaleString("en-US") : amount;
    }
    bar.setAttribute("data-lc-active", data.active ? "1" : "0");
    if (row) {
      var badge = row.querySelector(".lc-badge");
      if (badge) {
        badge.textContent = data.status_label;
        badge.style.background = data.color;
        badge.setAttribute("data-lc-status", data.status);
      }
      var duration = row.querySelector("td.field-duration");
      if (duration) {
        duration.textContent = data.duration;
      }
    }
  }

  function poll() {
    var bars = activeBars();
    if (!bars.length) {
      return;
    }
    var ids = bars.map(function (bar) { return bar.getAttribute("data-lc-record"); });
    fetch("progress/?ids=" + encodeURIComponent(ids.join(",")), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { records: {} }; })
      .then(function (payload) {
        bars.forEach(function (bar) {
          var data = payload.records[bar.getAttribute("data-lc-record")];
          if (data) {
            updateRow(bar, data);
          }
        });
      })
      .catch(function () { /* the next poll tries again */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("#changelist .lc-progress")) {
      window.setInterval(poll, POLL_MS);
    }
  });
})();
