// The widget's live line to Parley: one WebSocket, reopened with backoff after a drop and
// resumed from the last sequence number seen, so a reconnect misses nothing and repeats nothing.
(function (chat) {
  "use strict";

  var BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
  // Close codes that mean the token is no longer good: open the session again for a fresh one.
  var REFUSED = { 1008: true, 4401: true, 4403: true, 4404: true };
  // A ping after this long without a frame; no answer within PONG_MS means the line is dead
  // (a sleeping laptop, a proxy that dropped it) even if the browser has not noticed.
  var QUIET_MS = 25000;
  var PONG_MS = 10000;

  // hooks: url() -> socket URL, lastSeq() -> int, onOpen(), onFrame(frame), onStatus(online),
  // refresh() -> Promise (re-opens the session: a new token).
  function Connection(hooks) {
    this.hooks = hooks;
    this.socket = null;
    this.failures = 0;
    this.timer = null;
    this.watch = null;
    var self = this;
    window.addEventListener("online", function () { self.now(); });
    window.addEventListener("offline", function () {
      // The socket may take a long time to notice on its own; say so at once.
      if (self.socket) { self.socket.close(); }
    });
  }

  Connection.prototype.open = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.socket) { return; }
    var socket;
    try {
      socket = new WebSocket(this.hooks.url());
    } catch (error) {
      this.retry(false);
      return;
    }
    this.socket = socket;
    socket.onopen = function () {
      self.failures = 0;
      self.listen(socket);
      socket.send(JSON.stringify({ type: "resume", after: self.hooks.lastSeq() }));
      self.hooks.onStatus(true);
      self.hooks.onOpen();
    };
    socket.onmessage = function (event) {
      self.listen(socket);
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      if (frame && typeof frame.type === "string") { self.hooks.onFrame(frame); }
    };
    socket.onclose = function (event) {
      if (self.socket !== socket) { return; }
      clearTimeout(self.watch);
      self.socket = null;
      self.hooks.onStatus(false);
      self.retry(REFUSED[event.code] === true);
    };
  };

  // Heard from the server: wait QUIET_MS, then ping and expect an answer within PONG_MS.
  Connection.prototype.listen = function (socket) {
    var self = this;
    clearTimeout(this.watch);
    this.watch = setTimeout(function () {
      if (socket.readyState !== WebSocket.OPEN) { return; }
      socket.send(JSON.stringify({ type: "ping" }));
      self.watch = setTimeout(function () { socket.close(); }, PONG_MS);
    }, QUIET_MS);
  };

  Connection.prototype.retry = function (refused) {
    var self = this;
    var step = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
    this.failures += 1;
    // Jitter, so a restarted server is not met by every widget in the same millisecond.
    var delay = step * (0.75 + Math.random() * 0.5);
    clearTimeout(this.timer);
    this.timer = setTimeout(function () {
      if (refused || self.failures % 3 === 0) {
        // The handshake was refused, or failed a few times: the token may have expired.
        self.hooks.refresh().then(function () { self.open(); }, function () { self.retry(false); });
      } else {
        self.open();
      }
    }, delay);
  };

  // Reconnect now (the browser says the network is back).
  Connection.prototype.now = function () {
    if (this.socket) { return; }
    this.failures = 0;
    this.open();
  };

  Connection.prototype.isOpen = function () {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  };

  // Send a frame if the socket is open; false if it must wait for the reconnect.
  Connection.prototype.send = function (frame) {
    if (!this.isOpen()) { return false; }
    this.socket.send(JSON.stringify(frame));
    return true;
  };

  chat.Connection = Connection;
})(window.ParleyChat = window.ParleyChat || {});
