/*
 * django-longcallbacks browser client: keeps [data-lc-var] elements live, shows notifications
 * and sends action buttons over the websocket. Vanilla JS, no build step, no dependencies.
 * The frames are described in docs/protocol.md.
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
      var close = document.createElement("button");
      close.type = "button";
      close.className = "lc-toast-close";
      close.setAttribute("aria-label", texts.close || "Close");
      close.textContent = "\u00d7";
      close.addEventListener("click", function () {
        closeToast(notification.id);
      });
      toast.appendChild(message);
      toast.appendChild(close);
      container.appendChild(toast);
      if (notification.duration > 0) {
        window.setTimeout(function () {
          if (toast.parentNode) {
            toast.parentNode.removeChild(toast);
          }
        }, notification.duration);
      }
    }
    announce(notification);
    showSystemNotification(notification);
    emit("notification", notification);
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
        emit("long_callback", frame.long_callback);
        break;
      case "pong":
        window.clearTimeout(pongTimer);
        break;
      case "error":
        console.warn("longcallbacks: " + frame.code + ": " + frame.message);
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

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
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

  setStatus("connecting", texts.connecting || "Connecting…");
  connect();
})();
