// The chat app inside the widget iframe: opens the session, draws the thread, talks over the
// socket, and keeps what the shopper typed until the server has stored it.
(function (chat) {
  "use strict";

  var RTL = { ar: true, he: true, fa: true, ur: true };
  // Error codes that mean "this message will never be stored" (frames.py on the server).
  var REFUSED_MESSAGE = { message_too_long: true, empty_message: true, invalid_frame: true };
  var RATE_RETRY_MS = 5000;
  var TYPING_MS = 6000;
  var BOT_THINKING_MS = 60000;
  var params = new URLSearchParams(location.hash.slice(1));
  var key = params.get("key");
  var requested = params.get("locale") || navigator.language || "en";
  var storageKey = "parley:" + key;
  var list = document.getElementById("messages");
  var input = document.getElementById("input");
  var banner = document.getElementById("banner");
  var typingLine = document.getElementById("typing");
  var humanButton = document.getElementById("human");
  var contactForm = document.getElementById("contact");

  // English until the session brings the shopper's language.
  var strings = {
    you: "You", assistant: "Assistant", agent: "Support agent", waiting: "Not sent yet",
    unavailable: "The chat is not available right now.", error: "Something went wrong."
  };
  var session = null;
  var thread = new chat.Thread(list, strings);
  var connection = null;
  var online = false;
  var triedSocket = false;
  var ownerState = null;
  var controls = [];        // confirm / request_human frames waiting for the socket
  var inflight = [];        // client_ids sent on this socket and not yet stored, oldest first
  var typingSentAt = 0;
  var typingTimer = null;

  // The thread survives a reload: token, last seq seen, unsent messages, an open action.
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(storageKey) || "{}") || {}; } catch (e) { saved = {}; }
  saved.seq = saved.seq || 0;
  saved.outbox = saved.outbox || [];

  function persist() {
    try { localStorage.setItem(storageKey, JSON.stringify(saved)); } catch (e) { /* private mode: the thread lasts as long as the page */ }
  }

  function tell(message) {
    if (window.parent !== window) { window.parent.postMessage(Object.assign({ parley: true }, message), "*"); }
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 15) | 64;
    bytes[8] = (bytes[8] & 63) | 128;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function api(path, options) {
    options = options || {};
    options.headers = { "Content-Type": "application/json" };
    if (session) { options.headers.Authorization = "Bearer " + session.token; }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          var error = new Error((body.error && body.error.message) || response.status);
          error.status = response.status;
          throw error;
        }
        return body;
      });
    });
  }

  // -- the session ----------------------------------------------------------------------------

  function openSession() {
    return requestSession().catch(function (error) {
      if (error.status !== 401 || !saved.token) { throw error; }
      // The saved token is expired or no longer valid: the old thread is out of reach, so
      // start a new one rather than fail on every visit.
      saved.token = null;
      return requestSession();
    });
  }

  function requestSession() {
    return api("/api/v1/widget/sessions", {
      method: "POST",
      body: JSON.stringify({
        key: key,
        locale: requested,
        conversation_id: saved.conversation_id || null,
        token: saved.token || null
      })
    }).then(function (opened) {
      if (saved.conversation_id && saved.conversation_id !== opened.conversation_id) {
        // The old thread could not be resumed (its token expired): start clean, keep what was typed.
        saved.seq = 0;
        saved.action = null;
        list.textContent = "";
        thread = new chat.Thread(list, strings);
        thread.notice(strings.greeting, "greeting");
        saved.outbox.forEach(function (queued) { thread.pending(queued.client_id, queued.text); });
      }
      session = opened;
      saved.conversation_id = opened.conversation_id;
      saved.token = opened.token;
      persist();
      return opened;
    });
  }

  function applyStrings(opened) {
    Object.assign(strings, opened.strings);
    var language = strings.lang || requested.split(/[-_]/)[0].toLowerCase();
    var dir = strings.dir || (RTL[language] ? "rtl" : "ltr");
    document.documentElement.lang = language;
    document.documentElement.dir = dir;
    document.title = strings.title;
    document.getElementById("title").textContent = strings.title;
    document.getElementById("input-label").textContent = strings.label || strings.placeholder;
    input.placeholder = strings.placeholder;
    document.getElementById("send").setAttribute("aria-label", strings.send);
    humanButton.textContent = strings.human;
    document.getElementById("email-label").textContent = strings.email_label;
    document.getElementById("email").placeholder = strings.email_label;
    document.getElementById("email-send").textContent = strings.email_send;
    if (opened.theme && opened.theme.accent) {
      document.documentElement.style.setProperty("--accent", opened.theme.accent);
    }
    tell({ type: "ready", dir: dir, labels: { open: strings.open, close: strings.close, title: strings.title } });
  }

  // -- what the server sends ------------------------------------------------------------------

  function remember(seq) {
    if (seq > saved.seq) { saved.seq = seq; }
  }

  function received(frame, live) {
    if (!thread.message(frame)) { return; }
    rendered(frame);
    remember(frame.seq);
    if (frame.client_id) {
      saved.outbox = saved.outbox.filter(function (queued) { return queued.client_id !== frame.client_id; });
      inflight = inflight.filter(function (id) { return id !== frame.client_id; });
    }
    persist();
    if (frame.role !== "shopper") {
      showTyping(null);
      if (live) { tell({ type: "message", role: frame.role }); }
    } else if (live && botAnswers()) {
      // The bot is at work on it until its first token: a local model can take seconds.
      showTyping("bot", BOT_THINKING_MS);
    }
  }

  // An agent's reply arrives in the shopper's language with the agent's own words one click
  // away, or as the agent wrote it (no model, or a translation that would have changed a
  // number or code), which a small note says.
  function rendered(frame) {
    if (frame.role !== "agent" || !frame.translation) { return; }
    var item = list.querySelector('li.msg[data-seq="' + frame.seq + '"]');
    if (!item) { return; }
    var note = chat.el("span", "note");
    if (frame.original && frame.original.text) {
      var body = item.querySelector(".text");
      var toggle = chat.el("button", "toggle-original", strings.show_original);
      toggle.type = "button";
      toggle.setAttribute("aria-pressed", "false");
      note.textContent = strings.translated_note;
      toggle.addEventListener("click", function () {
        var original = toggle.getAttribute("aria-pressed") !== "true";
        var shown = original ? frame.original : frame;
        body.textContent = shown.text;
        if (shown.language) { body.lang = shown.language; } else { body.removeAttribute("lang"); }
        toggle.setAttribute("aria-pressed", original ? "true" : "false");
        toggle.textContent = original ? strings.show_translation : strings.show_original;
      });
      item.appendChild(note);
      item.appendChild(toggle);
    } else if (frame.translation.status === "untranslated") {
      note.textContent = strings.untranslated_note;
      item.classList.add("untranslated");
      item.appendChild(note);
    }
    thread.scroll();
  }

  function botAnswers() {
    return !ownerState || ownerState.state === "bot" || ownerState.state === "resolved";
  }

  var handlers = {
    message: function (frame) { received(frame, true); },
    token: function (frame) {
      showTyping(null);
      thread.token(frame);
    },
    state: function (frame) {
      ownerState = frame;
      if (!botAnswers()) { showTyping(null); }
      humanButton.disabled = frame.state === "queued" || frame.state === "human";
      drawBanner();
    },
    action: function (frame) {
      thread.action(frame, answerAction);
      saved.action = { action_id: frame.action_id, summary: frame.summary, needs_confirmation: frame.needs_confirmation, reply_to: frame.reply_to || saved.seq };
      persist();
    },
    typing: function (frame) {
      if (frame.role && frame.role !== "shopper") { showTyping(frame.role); }
    },
    error: function (frame) {
      var text = strings["error_" + frame.code] || strings.error;
      if (frame.code === "stale_action") {
        thread.settle(text);
        saved.action = null;
        persist();
        return;
      }
      if (frame.code === "rate_limited" && inflight.length) {
        // Not stored: it stays in the outbox and goes again once the window has passed.
        var later = inflight.shift();
        var waiting = list.querySelector('li.pending[data-client-id="' + CSS.escape(later) + '"] .note');
        if (waiting) { waiting.textContent = text; }
        setTimeout(function () {
          saved.outbox.forEach(function (queued) { if (queued.client_id === later) { sendMessage(queued); } });
        }, RATE_RETRY_MS);
        return;
      }
      if (frame.code === "turn_failed") {
        thread.dropAllDrafts();
        showTyping(null);
      }
      if (frame.code === "invalid_email") {
        saved.contact = null;
        persist();
        drawBanner();
      }
      if (REFUSED_MESSAGE[frame.code] && inflight.length) {
        // The server answers a socket's frames in order: this refusal is for the oldest message
        // still in flight. It will not be stored, so stop resending it.
        var refused = inflight.shift();
        saved.outbox = saved.outbox.filter(function (queued) { return queued.client_id !== refused; });
        persist();
        var bubble = list.querySelector('li.pending[data-client-id="' + CSS.escape(refused) + '"]');
        if (bubble) {
          bubble.classList.add("failed");
          bubble.querySelector(".note").textContent = text;
          return;
        }
      }
      humanButton.disabled = false;
      thread.notice(text, "error");
    }
  };

  function answerAction(accept) {
    var actionId = saved.action && saved.action.action_id;
    saved.action = null;
    persist();
    if (actionId) { sendControl({ type: "confirm", action_id: actionId, accept: accept }); }
    // The buttons just pressed are disabled now: keep the keyboard user's focus in the chat.
    input.focus();
  }

  function showTyping(role, forMs) {
    clearTimeout(typingTimer);
    typingLine.textContent = role ? (role === "agent" ? strings.typing_agent : strings.typing_bot) : "";
    // A typing frame is a hint, not a promise: it fades if nothing follows.
    if (role) { typingTimer = setTimeout(function () { typingLine.textContent = ""; }, forMs || TYPING_MS); }
  }

  function drawBanner() {
    var text = "";
    var kind = "";
    if (!online && triedSocket) {
      text = navigator.onLine === false ? strings.offline : strings.reconnecting;
      kind = "offline";
    } else if (ownerState && ownerState.state === "queued") {
      text = ownerState.position ? chat.fill(strings.queued, { position: ownerState.position }) : strings.queued_plain;
      if (ownerState.back_at) {
        var back = new Date(ownerState.back_at);
        // In the shopper's own clock, with its zone named: they may not be where the store is.
        var when = isNaN(back) ? ownerState.back_at : back.toLocaleString(document.documentElement.lang, {
          weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
        });
        text += " " + chat.fill(strings.after_hours, { time: when });
      }
      kind = "queued";
    } else if (ownerState && ownerState.state === "human") {
      text = ownerState.agent ? chat.fill(strings.joined, { name: ownerState.agent }) : strings.joined_plain;
      kind = "human";
    } else if (ownerState && ownerState.state === "resolved") {
      text = strings.resolved;
      kind = "resolved";
    }
    banner.textContent = text;
    banner.className = "banner " + kind;
    banner.hidden = !text;
    // Outside support hours the shopper may leave an address to be written to.
    contactForm.hidden = !(kind === "queued" && ownerState.back_at && !saved.contact);
  }

  // -- what the shopper sends -----------------------------------------------------------------

  function sendControl(frame) {
    if (!connection || !connection.send(frame)) { controls.push(frame); }
  }

  function sendMessage(queued) {
    if (connection && connection.send({ type: "message", client_id: queued.client_id, text: queued.text })) {
      inflight.push(queued.client_id);
    }
  }

  function flush() {
    inflight = [];
    saved.outbox.forEach(sendMessage);
    var waiting = controls;
    controls = [];
    waiting.forEach(sendControl);
  }

  function submit() {
    var text = input.value.trim();
    if (!text || !session) { return; }
    var queued = { client_id: newClientId(), text: text };
    saved.outbox.push(queued);
    persist();
    thread.pending(queued.client_id, text);
    input.value = "";
    resize();
    sendMessage(queued);
  }

  function resize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", function (event) {
    // Enter sends; Shift+Enter breaks the line; an IME composing Japanese or Chinese keeps Enter.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", function () {
    resize();
    var now = Date.now();
    if (input.value && connection && now - typingSentAt > 3000) {
      typingSentAt = now;
      connection.send({ type: "typing" });
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { tell({ type: "close" }); }
  });
  contactForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var email = document.getElementById("email").value.trim();
    if (!email) { return; }
    saved.contact = email;
    persist();
    sendControl({ type: "contact", email: email });
    drawBanner();
  });
  humanButton.addEventListener("click", function () {
    humanButton.disabled = true;
    sendControl({ type: "request_human" });
    input.focus();
  });
  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.parley === "focus") { input.focus(); }
  });

  // -- start ----------------------------------------------------------------------------------

  function socketUrl() {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + "/api/v1/widget/ws?token=" + encodeURIComponent(session.token);
  }

  var startFailures = 0;
  var unavailable = null;

  function start() {
    openSession().then(function (opened) {
      if (unavailable) { unavailable.parentNode.removeChild(unavailable); unavailable = null; }
      applyStrings(opened);
      if (!list.querySelector(".greeting")) { thread.notice(strings.greeting, "greeting"); }
      if (opened.state) { handlers.state({ state: opened.state }); }
      return api("/api/v1/widget/conversations/" + opened.conversation_id + "/messages?after=0");
    }).then(joined, function (error) {
      // Parley unreachable as the page loads (offline, a restart): say so, try again later.
      console.error("parley:", error);
      if (!unavailable) { unavailable = thread.notice(strings.unavailable, "error"); }
      startFailures += 1;
      setTimeout(start, Math.min(30000, 1000 * Math.pow(2, startFailures)));
    });
  }

  function joined(history) {
    history.messages.forEach(function (frame) { received(frame, false); });
    saved.outbox.forEach(function (queued) { thread.pending(queued.client_id, queued.text); });
    var action = saved.action;
    // A shopper who wrote after the proposal (a typed yes, another question) has moved on.
    var movedOn = history.messages.some(function (m) { return m.role === "shopper" && action && m.seq > action.reply_to; });
    if (action && !movedOn) { thread.action(action, answerAction); }
    connection = new chat.Connection({
      url: socketUrl,
      lastSeq: function () { return saved.seq; },
      onOpen: flush,
      onFrame: function (frame) { if (handlers[frame.type]) { handlers[frame.type](frame); } },
      onStatus: function (up) {
        online = up;
        triedSocket = true;
        document.body.dataset.connection = up ? "online" : "offline";
        drawBanner();
      },
      refresh: openSession
    });
    connection.open();
  }

  start();
})(window.ParleyChat = window.ParleyChat || {});
