// Unit test of longcallbacks/static/longcallbacks/client.js on a small fake DOM, run by
// tests/test_client_js.py with Node.js (no npm packages needed).
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const source = fs.readFileSync(
  path.join(__dirname, "..", "..", "longcallbacks", "static", "longcallbacks", "client.js"),
  "utf8"
);

class FakeElement {
  constructor(attributes = {}) {
    this.attributes = { ...attributes };
    this.children = [];
    this.parentNode = null;
    this.textContent = "";
    this.innerHTMLWrites = [];
    this.listeners = {};
  }
  set innerHTML(value) {
    this.innerHTMLWrites.push(value);
  }
  setAttribute(name, value) {
    this.attributes[name] = String(value);
  }
  getAttribute(name) {
    return Object.prototype.hasOwnProperty.call(this.attributes, name) ? this.attributes[name] : null;
  }
  hasAttribute(name) {
    return Object.prototype.hasOwnProperty.call(this.attributes, name);
  }
  appendChild(child) {
    child.parentNode = this;
    this.children.push(child);
  }
  removeChild(child) {
    this.children = this.children.filter((item) => item !== child);
    child.parentNode = null;
  }
  addEventListener(type, listener) {
    this.listeners[type] = listener;
  }
}

function makePage() {
  const status = new FakeElement({ "data-lc-status": "" });
  const plain = new FakeElement({ "data-lc-var": "message" });
  const trusted = new FakeElement({ "data-lc-var": "report", "data-lc-safe": "" });
  const toasts = new FakeElement({ "data-lc-notifications": "" });
  const polite = new FakeElement({ "data-lc-announce": "polite" });
  const assertive = new FakeElement({ "data-lc-announce": "assertive" });
  const config = { textContent: JSON.stringify({ path: "/ws/longcallbacks/", texts: { live: "Live" } }) };
  const timers = [];
  const sockets = [];
  const storage = new Map();

  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.listeners = {};
      sockets.push(this);
    }
    addEventListener(type, listener) {
      this.listeners[type] = listener;
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close() {}
    open() {
      this.readyState = FakeWebSocket.OPEN;
      this.listeners.open();
    }
    deliver(frame) {
      this.listeners.message({ data: JSON.stringify(frame) });
    }
    drop(code) {
      this.readyState = 3;
      this.listeners.close({ code: code });
    }
  }
  FakeWebSocket.OPEN = 1;

  const document = {
    getElementById: (id) => (id === "longcallbacks-config" ? config : null),
    querySelectorAll: (selector) => {
      if (selector === "[data-lc-status]") return [status];
      if (selector === "[data-lc-var]") return [plain, trusted];
      if (selector === "[data-lc-notification-id]") return toasts.children.slice();
      return [];
    },
    querySelector: (selector) => {
      if (selector === "[data-lc-notifications]") return toasts;
      if (selector === '[data-lc-announce="polite"]') return polite;
      if (selector === '[data-lc-announce="assertive"]') return assertive;
      return null;
    },
    createElement: () => new FakeElement(),
    addEventListener: () => {},
    dispatchEvent: () => true,
  };
  const window = {
    location: { protocol: "http:", host: "127.0.0.1:8000" },
    sessionStorage: {
      getItem: (key) => (storage.has(key) ? storage.get(key) : null),
      setItem: (key, value) => storage.set(key, String(value)),
    },
    setTimeout: (callback, delay) => timers.push({ callback, delay }),
    clearTimeout: () => {},
    setInterval: () => 0,
    clearInterval: () => {},
  };
  const context = {
    window,
    document,
    WebSocket: FakeWebSocket,
    CustomEvent: class {
      constructor(type, options) {
        this.type = type;
        this.detail = options.detail;
      }
    },
    console: { warn: () => {} },
    JSON,
    Math,
    Object,
    Array,
    String,
    parseInt,
    isNaN,
  };
  vm.runInNewContext(source, context);
  return { status, plain, trusted, toasts, polite, sockets, timers, storage };
}

const notification = {
  id: "n1",
  type: "success",
  message: "<img src=x onerror=alert(1)>",
  system_notification: false,
  duration: 0,
  created_at: "2026-12-04T20:00:00+00:00",
};

// Values are written as text, except where the template marked them safe.
{
  const page = makePage();
  const socket = page.sockets[0];
  assert.equal(socket.url, "ws://127.0.0.1:8000/ws/longcallbacks/");
  socket.open();
  socket.deliver({
    type: "snapshot",
    version: 3,
    variables: { message: "<b>bold</b>", report: "<i>ok</i>" },
    notifications: [],
    long_callbacks: [],
  });
  assert.equal(page.status.getAttribute("data-state"), "live");
  assert.equal(page.plain.textContent, "<b>bold</b>");
  assert.deepEqual(page.plain.innerHTMLWrites, []);
  assert.deepEqual(page.trusted.innerHTMLWrites, ["<i>ok</i>"]);

  socket.deliver({ type: "diff", version: 4, changes: { message: [1, { a: "b" }] } });
  assert.equal(page.plain.textContent, '[1,{"a":"b"}]');
  assert.equal(page.storage.get("longcallbacks:version"), "4");
}

// A notification is shown once per tab, as text, and acknowledged.
{
  const page = makePage();
  const socket = page.sockets[0];
  socket.open();
  socket.deliver({ type: "snapshot", version: 1, variables: {}, notifications: [notification], long_callbacks: [] });
  socket.deliver({ type: "notification", notification: notification });
  assert.equal(page.toasts.children.length, 1);
  assert.equal(page.toasts.children[0].children[0].textContent, notification.message);
  assert.deepEqual(page.toasts.children[0].innerHTMLWrites, []);
  assert.equal(page.polite.textContent, notification.message);
  const acks = socket.sent.filter((frame) => frame.type === "ack");
  assert.deepEqual(acks, [{ type: "ack", notifications: ["n1"] }]);

  // A replacement under the same id has a new created_at and is shown again.
  socket.deliver({ type: "notification", notification: { ...notification, message: "new", created_at: "later" } });
  assert.equal(page.toasts.children.length, 1);
  assert.equal(page.toasts.children[0].children[0].textContent, "new");

  socket.deliver({ type: "notification_close", notification_id: "n1" });
  assert.equal(page.toasts.children.length, 0);
}

// A dropped socket reconnects with jittered backoff and resumes from its last version.
{
  const page = makePage();
  const first = page.sockets[0];
  first.open();
  first.deliver({ type: "snapshot", version: 7, variables: {}, notifications: [], long_callbacks: [] });
  assert.deepEqual(first.sent, []);
  first.drop(1006);
  assert.equal(page.status.getAttribute("data-state"), "reconnecting");
  const retry = page.timers.pop();
  assert.ok(retry.delay >= 0, `first retry after ${retry.delay} ms`);
  assert.ok(retry.delay <= 500, `first retry after ${retry.delay} ms`);
  retry.callback();

  const second = page.sockets[1];
  second.open();
  second.deliver({ type: "snapshot", version: 9, variables: {}, notifications: [], long_callbacks: [] });
  assert.deepEqual(second.sent, [{ type: "resume", version: 7 }]);
}

// A session that is gone stops the client instead of reconnecting.
{
  const page = makePage();
  page.sockets[0].drop(4001);
  assert.equal(page.status.getAttribute("data-state"), "offline");
  assert.equal(page.timers.length, 0);
}

console.log("client.js: all checks passed");
