/*
 * django-longcallbacks browser client: keeps [data-lc-var] elements live, shows notifications,
 * keeps the run lists of {% long_callbacks %} live and sends action and cancel buttons over
 * the websocket. Vanilla JS, no build step, no dependencies. The frames are described in
 * docs/protocol.md.
 */
(function () {
  "use strict";

  var configElement = document.getElementById("longcallbacks-config");
  if (!configElement) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var texts = config.texts || {};

  var BACKOFF_BASE_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  var PING_INTERVAL_MS = 25000;
  var PONG_TIMEOUT_MS = 10000;
  var MAX_SEEN = 200;
  // Close codes after which reconnecting cannot help: the page must be loaded again.
  var FINAL_CLOSE_CODES = { 4001: true, 4004: true };
  // Form fields that address the request itself, never part of a payload.
  var RESERVED_FIELDS = { action: true, next: true, csrfmiddlewaretoken: true };

  var socket = null;
  var ready = false;
  var attempt = 0;
  var version = readStoredVersion();
  var pingTimer = null;
  var pongTimer = null;
  var nextActionId = 1;
  var firstSnapshot = true;
  // Queued and running long callbacks by id, each with the progress points seen: [time ms, current].
  var runs = {};
  // Cancel request ids sent, mapped to the run id, so an error frame can re-enable the button.
  var pendingCancels = {};
  var FINAL_STATUSES = { succeeded: true, failed: true, cancelled: true, lost: true };
  // The server's clock minus this browser's, from the run list's render time (0 without one).
  var clockOffset = (function () {
    var list = document.querySelector("[data-lc-runs][data-lc-now]");
    var serverNow = list ? parseInt(list.getAttribute("data-lc-now"), 10) : NaN;
    return isNaN(serverNow) ? 0 : serverNow - Date.now();
  })();

  function storageGet(key) {
    try {
      return window.sessionStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  function storageSet(key, value) {
    try {
      window.sessionStorage.setItem(key, value);
    } catch (error) {
      // Private modes may refuse storage; the tab then only deduplicates in memory.
    }
  }

  function readStoredVersion() {
    var stored = parseInt(storageGet("longcallbacks:version") || "", 10);
    return isNaN(stored) ? null : stored;
  }

  function setVersion(value) {
    version = value;
    storageSet("longcallbacks:version", String(value));
  }

  var seen = (function () {
    try {
      var parsed = JSON.parse(storageGet("longcallbacks:seen") || "[]");
      return Array.isArray(parsed) ? parsed : [];
    } catch (error) {
      return [];
    }
  })();

  // A notification replaced under the same id gets a new created_at, so it is shown again.
  function seenKey(notification) {
    return notification.id + "@" + notification.created_at;
  }

  function markSeen(key) {
    seen.push(key);
    if (seen.length > MAX_SEEN) {
      seen = seen.slice(seen.length - MAX_SEEN);
    }
    storageSet("longcallbacks:seen", JSON.stringify(seen));
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent("longcallbacks:" + name, { detail: detail }));
  }

  function setStatus(state, text) {
    var elements = document.querySelectorAll("[data-lc-status]");
    for (var i = 0; i < elements.length; i++) {
      elements[i].setAttribute("data-state", state);
      elements[i].textContent = text;
    }
    emit("status", { state: state });
  }

  function valueAsText(value) {
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function applyVariables(changes) {
    var elements = document.querySelectorAll("[data-lc-var]");
    for (var i = 0; i < elements.length; i++) {
      var element = elements[i];
      var name = element.getAttribute("data-lc-var");
      if (!Object.prototype.hasOwnProperty.call(changes, name)) {
        continue;
      }
      var text = valueAsText(changes[name]);
      if (element.hasAttribute("data-lc-safe")) {
        // The developer marked this variable safe in the template, so it is trusted HTML.
        element.innerHTML = text;
      } else {
        element.textContent = text;
      }
    }
    emit("change", { changes: changes, version: version });
  }

  function announce(notification) {
    var urgent = notification.type === "error" || notification.type === "warning";
    var region = document.querySelector('[data-lc-announce="' + (urgent ? "assertive" : "polite") + '"]');
    if (region) {
      region.textContent = notification.message;
    }
  }

  function showSystemNotification(notification) {
    if (!notification.system_notification || !("Notification" in window)) {
      return;
    }
    if (window.Notification.permission === "granted") {
      new window.Notification(notification.message);
    } else if (window.Notification.permission === "default") {
      window.Notification.requestPermission();
    }
  }

  function removeLater(element, duration) {
    if (duration > 0) {
      window.setTimeout(function () {
        if (element.parentNode) {
          element.parentNode.removeChild(element);
        }
      }, duration);
    }
  }

  function addCloseButton(toast, notificationId) {
    var close = document.createElement("button");
    close.type = "button";
    close.className = "lc-toast-close";
    close.setAttribute("aria-label", texts.close || "Close");
    close.textContent = "\u00d7";
    close.addEventListener("click", function () {
      closeToast(notificationId);
    });
    toast.appendChild(close);
  }

  // Toasts that {% notification_area %} rendered into the page were delivered with it: record
  // them as shown, so the socket does not show them again, and make them closable.
  function adoptRenderedToasts() {
    var rendered = document.querySelectorAll("[data-lc-notification-key]");
    for (var i = 0; i < rendered.length; i++) {
      var toast = rendered[i];
      var key = toast.getAttribute("data-lc-notification-key");
      if (seen.indexOf(key) === -1) {
        markSeen(key);
      }
      addCloseButton(toast, toast.getAttribute("data-lc-notification-id"));
      removeLater(toast, parseInt(toast.getAttribute("data-lc-duration"), 10) || 0);
    }
  }

  function closeToast(notificationId) {
    var toasts = document.querySelectorAll("[data-lc-notification-id]");
    for (var i = 0; i < toasts.length; i++) {
      if (toasts[i].getAttribute("data-lc-notification-id") === notificationId) {
        toasts[i].parentNode.removeChild(toasts[i]);
      }
    }
  }

  function showNotification(notification) {
    var key = seenKey(notification);
    if (seen.indexOf(key) !== -1) {
      return;
    }
    markSeen(key);
    send({ type: "ack", notifications: [notification.id] });

    closeToast(notification.id);
    var container = document.querySelector("[data-lc-notifications]");
    if (container) {
      var toast = document.createElement("div");
      toast.className = "lc-toast lc-toast-" + notification.type;
      toast.setAttribute("data-lc-notification-id", notification.id);
      var message = document.createElement("span");
      message.className = "lc-toast-message";
      message.textContent = notification.message;
      toast.appendChild(message);
      addCloseButton(toast, notification.id);
      container.appendChild(toast);
      removeLater(toast, notification.duration);
    }
    announce(notification);
    showSystemNotification(notification);
    emit("notification", notification);
  }

  // Run lists and running indicators.

  function formatDuration(seconds) {
    var whole = Math.max(0, Math.floor(seconds));
    var hours = Math.floor(whole / 3600);
    var minutes = Math.floor((whole % 3600) / 60);
    var secs = whole % 60;
    var twoDigits = function (value) {
      return (value < 10 ? "0" : "") + value;
    };
    return hours ? hours + ":" + twoDigits(minutes) + ":" + twoDigits(secs) : minutes + ":" + twoDigits(secs);
  }

  function fillText(template, value) {
    return (template || "%s").replace("%s", value);
  }

  // The time left from the mean rate between the first and the last progress point seen.
  function timeLeftText(entry, now) {
    var run = entry.run;
    if (run.progress_total === null || run.progress_total <= 0) {
      return "";
    }
    var points = entry.points;
    if (points.length < 2) {
      return texts.estimating || "estimating…";
    }
    var first = points[0];
    var last = points[points.length - 1];
    var rate = (last[1] - first[1]) / (last[0] - first[0]);
    if (!(rate > 0)) {
      return texts.estimating || "estimating…";
    }
    var seconds = (run.progress_total - last[1]) / rate / 1000 - (now - last[0]) / 1000;
    return fillText(texts.left, formatDuration(Math.max(0, seconds)));
  }

  function elapsedText(run, now) {
    if (!run.started_at) {
      return texts.waiting || "Waiting for a worker";
    }
    return fillText(texts.elapsed, formatDuration((now + clockOffset - Date.parse(run.started_at)) / 1000));
  }

  function setField(element, field, text) {
    var target = element.querySelector('[data-lc-run-field="' + field + '"]');
    if (target && target.textContent !== text) {
      target.textContent = text;
    }
  }

  function fillRunElement(element, entry, now) {
    var run = entry.run;
    element.setAttribute("data-lc-run-status", run.status);
    setField(element, "function", String(run.function || "").split(".").pop());
    setField(element, "status", run.status === "running" ? texts.running || "Running" : texts.queued || "Queued");
    setField(element, "message", run.progress_message || "");
    setField(element, "elapsed", elapsedText(run, now));
    setField(element, "left", timeLeftText(entry, now));

    var bar = element.querySelector(".lc-run-bar");
    var fill = element.querySelector(".lc-run-fill");
    var determinate = run.progress_total !== null && run.progress_total > 0;
    if (bar && fill) {
      bar.classList.toggle("lc-run-bar-indeterminate", !determinate);
      if (determinate) {
        var current = run.progress_current || 0;
        bar.setAttribute("aria-valuemax", String(run.progress_total));
        bar.setAttribute("aria-valuenow", String(current));
        fill.style.width = Math.min(100, (100 * current) / run.progress_total).toFixed(1) + "%";
      } else {
        bar.removeAttribute("aria-valuemax");
        bar.removeAttribute("aria-valuenow");
        fill.style.width = "";
      }
    }
  }

  function newRunElement(list, runId) {
    var template = list.querySelector("template[data-lc-run-template]");
    if (!template) {
      return null;
    }
    var element = template.content.firstElementChild.cloneNode(true);
    element.setAttribute("data-lc-run-id", runId);
    var idField = element.querySelector('input[name="long_callback"]');
    if (idField) {
      idField.value = runId;
    }
    list.insertBefore(element, template);
    return element;
  }

  function renderRuns() {
    var now = Date.now();
    var lists = document.querySelectorAll("[data-lc-runs]");
    for (var i = 0; i < lists.length; i++) {
      var list = lists[i];
      var shown = {};
      var elements = list.querySelectorAll("[data-lc-run-id]");
      for (var j = 0; j < elements.length; j++) {
        var runId = elements[j].getAttribute("data-lc-run-id");
        if (Object.prototype.hasOwnProperty.call(runs, runId) && !shown[runId]) {
          shown[runId] = elements[j];
        } else {
          elements[j].parentNode.removeChild(elements[j]);
        }
      }
      var count = 0;
      for (var id in runs) {
        if (Object.prototype.hasOwnProperty.call(runs, id)) {
          var element = shown[id] || newRunElement(list, id);
          if (element) {
            fillRunElement(element, runs[id], now);
          }
          count += 1;
        }
      }
      var empty = list.querySelector("[data-lc-runs-empty]");
      if (empty) {
        empty.hidden = count > 0;
      }
    }
    updateRunningButtons();
  }

  function updateRunningButtons() {
    var running = {};
    for (var id in runs) {
      if (Object.prototype.hasOwnProperty.call(runs, id) && runs[id].run.action) {
        running[runs[id].run.action] = true;
      }
    }
    var buttons = document.querySelectorAll("[data-lc-disable-while-running]");
    for (var i = 0; i < buttons.length; i++) {
      var owner = buttons[i].closest("[data-lc-action]");
      var name = owner ? owner.getAttribute("data-lc-action") : null;
      buttons[i].disabled = Boolean(name && running[name]);
    }
  }

  function updateRun(run) {
    if (FINAL_STATUSES[run.status]) {
      delete runs[run.id];
      return;
    }
    var entry = runs[run.id] || (runs[run.id] = { run: run, points: [] });
    entry.run = run;
    var current = run.progress_current;
    var last = entry.points[entry.points.length - 1];
    if (current !== null && current !== undefined && (!last || last[1] !== current)) {
      entry.points.push([Date.now(), current]);
    }
  }

  function replaceRuns(list) {
    var previous = runs;
    runs = {};
    list.forEach(function (run) {
      if (previous[run.id]) {
        runs[run.id] = previous[run.id];
      }
      updateRun(run);
    });
  }

  function handleFrame(frame) {
    switch (frame.type) {
      case "snapshot":
        var previous = version;
        setVersion(frame.version);
        ready = true;
        attempt = 0;
        setStatus("live", texts.live || "Live");
        applyVariables(frame.variables);
        frame.notifications.forEach(showNotification);
        replaceRuns(frame.long_callbacks);
        renderRuns();
        frame.long_callbacks.forEach(function (run) {
          emit("long_callback", run);
        });
        if (firstSnapshot && previous !== null) {
          // Ask for notifications that other tabs got while this one was away.
          send({ type: "resume", version: previous });
        }
        firstSnapshot = false;
        break;
      case "diff":
        setVersion(frame.version);
        applyVariables(frame.changes);
        break;
      case "notification":
        showNotification(frame.notification);
        break;
      case "notification_close":
        closeToast(frame.notification_id);
        emit("notification_close", { id: frame.notification_id });
        break;
      case "long_callback":
        updateRun(frame.long_callback);
        renderRuns();
        emit("long_callback", frame.long_callback);
        break;
      case "pong":
        window.clearTimeout(pongTimer);
        break;
      case "error":
        console.warn("longcallbacks: " + frame.code + ": " + frame.message);
        if (frame.id !== undefined && pendingCancels[frame.id]) {
          setCancelling(pendingCancels[frame.id], false);
          delete pendingCancels[frame.id];
        }
        emit("error", frame);
        break;
      default:
        console.warn("longcallbacks: unknown frame type " + frame.type);
    }
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function startPing() {
    stopPing();
    pingTimer = window.setInterval(function () {
      if (send({ type: "ping" })) {
        pongTimer = window.setTimeout(function () {
          // No pong: the connection is dead without a close event, so drop it and reconnect.
          if (socket) {
            socket.close();
          }
        }, PONG_TIMEOUT_MS);
      }
    }, PING_INTERVAL_MS);
  }

  function stopPing() {
    window.clearInterval(pingTimer);
    window.clearTimeout(pongTimer);
  }

  function scheduleReconnect() {
    // Exponential backoff with full jitter, so tabs do not reconnect in step after an outage.
    var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, attempt));
    attempt += 1;
    setStatus("reconnecting", texts.reconnecting || "Reconnecting…");
    window.setTimeout(connect, Math.random() * ceiling);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + config.path);
    firstSnapshot = true;
    socket.addEventListener("open", startPing);
    socket.addEventListener("message", function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        console.warn("longcallbacks: invalid frame from the server");
        return;
      }
      handleFrame(frame);
    });
    socket.addEventListener("close", function (event) {
      ready = false;
      socket = null;
      stopPing();
      if (FINAL_CLOSE_CODES[event.code]) {
        setStatus("offline", texts.offline || "Offline");
        return;
      }
      scheduleReconnect();
    });
  }

  function formPayload(form) {
    var payload = {};
    new FormData(form).forEach(function (value, key) {
      if (RESERVED_FIELDS[key] || typeof value !== "string") {
        return;
      }
      if (Object.prototype.hasOwnProperty.call(payload, key)) {
        payload[key] = [].concat(payload[key], value);
      } else {
        payload[key] = value;
      }
    });
    return payload;
  }

  function setCancelling(runId, cancelling) {
    var forms = document.querySelectorAll("form[data-lc-cancel]");
    for (var i = 0; i < forms.length; i++) {
      var idField = forms[i].querySelector('input[name="long_callback"]');
      var button = forms[i].querySelector("button");
      if (idField && button && idField.value === runId) {
        button.disabled = cancelling;
        button.textContent = cancelling ? texts.cancelling || "Cancelling…" : texts.cancel || "Cancel";
      }
    }
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (form.hasAttribute("data-lc-cancel")) {
        var idField = form.querySelector('input[name="long_callback"]');
        if (!ready || !idField) {
          // Without a live socket the form posts to the cancel view.
          return;
        }
        var cancelId = nextActionId++;
        if (send({ type: "cancel", long_callback: idField.value, id: cancelId })) {
          event.preventDefault();
          pendingCancels[cancelId] = idField.value;
          setCancelling(idField.value, true);
        }
        return;
      }
      var submitter = event.submitter;
      var name =
        (submitter && submitter.getAttribute("data-lc-action")) || form.getAttribute("data-lc-action");
      if (!name || !ready) {
        // Without a live socket the form posts to the action view as a plain page would.
        return;
      }
      var id = nextActionId++;
      if (send({ type: "action", name: name, payload: formPayload(form), id: id })) {
        event.preventDefault();
      }
    },
    true
  );

  adoptRenderedToasts();
  // Elapsed times and estimates change every second between frames.
  window.setInterval(function () {
    if (Object.keys(runs).length) {
      renderRuns();
    }
  }, 1000);
  setStatus("connecting", texts.connecting || "Connecting…");
  connect();
})();
