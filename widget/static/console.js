// The agent console: sign in, a live queue from the agent socket, one thread with everything the
// bot did, the shopper's orders and cases, a reply with its preview for the shopper (sent
// translated), a suggested reply from the knowledge base and the orders, hand-back.
// No framework and nothing inline: the page's policy allows scripts and styles from Parley only.
(function () {
  "use strict";

  var TOKEN_KEY = "parley:token";             // shared with the admin pages
  var ASKED_KEY = "parley:console:notify-asked";
  var $ = function (id) { return document.getElementById(id); };

  var state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    agent: null,
    view: "open",
    threads: [],          // summaries of the current view, longest waiting first
    selected: 0,          // index in `threads` the keyboard is on
    open: null,           // the conversation id shown on the right
    thread: null,         // its header as the thread endpoint returned it
    seqs: {},             // seq -> <li> of the open thread
    translations: {},     // "conversation:seq" -> translation frame (arrive before or after)
    unread: {},           // conversation id -> messages the agent has not seen
    known: {},            // conversation id -> true once listed (to notify only new ones)
    socket: null,
    retry: 500,
    audio: null
  };

  // -- small DOM and HTTP pieces -------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function api(path, options) {
    options = options || {};
    var headers = { Authorization: "Bearer " + state.token };
    if (options.json !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(path, {
      method: options.method || "GET",
      headers: headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : undefined
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          var error = new Error((body.error && body.error.message) || ("HTTP " + response.status));
          error.status = response.status;
          throw error;
        }
        return body;
      });
    });
  }

  function announce(text) {
    var node = $("announcer");
    node.textContent = "";
    window.setTimeout(function () { node.textContent = text; }, 50);
  }

  function waited(since) {
    if (!since) { return ""; }
    var seconds = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
    if (seconds < 60) { return seconds + " s"; }
    var minutes = Math.round(seconds / 60);
    return minutes < 60 ? minutes + " min" : Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  var REASONS = {
    shopper_asked: "asked for a person", low_confidence: "bot unsure", repeated_failure: "bot failed twice",
    anger: "angry shopper", legal_or_safety: "legal or safety", dispute: "payment dispute",
    above_limit: "above auto-approve limit", tool_error: "tool error", llm_unavailable: "model unavailable",
    agent_transfer: "transferred", unsupported_request: "bot cannot finish this"
  };
  function reason(code) { return REASONS[code] || code || "—"; }

  // -- sign in -------------------------------------------------------------------------------

  function showDesk() {
    $("sign-in-view").hidden = true;
    $("desk").hidden = false;
    $("who").hidden = false;
    $("sign-out").hidden = false;
    $("who").textContent = state.agent.email + " · reads " + state.agent.languages.join(", ");
    loadPreferences();
    refreshQueue();
    connect();
    window.setInterval(renderWaiting, 15000);
    $("queue").focus();
  }

  function askForNotifications() {
    // Asked once, on the click that signs in (browsers only ask from a user's gesture).
    if (!("Notification" in window) || localStorage.getItem(ASKED_KEY)) { return; }
    localStorage.setItem(ASKED_KEY, "1");
    if (Notification.permission === "default") { Notification.requestPermission(); }
  }

  function prepareSound() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (Context && !state.audio) { state.audio = new Context(); }
  }

  $("sign-in").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    askForNotifications();
    prepareSound();
    fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: form.email.value, password: form.password.value })
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error((body.error && body.error.message) || "sign-in failed"); }
        return body;
      });
    }).then(function (body) {
      state.token = body.token;
      state.agent = body.agent;
      sessionStorage.setItem(TOKEN_KEY, body.token);
      showDesk();
    }).catch(function (error) { $("sign-in-status").textContent = error.message; });
  });

  $("sign-out").addEventListener("click", function () {
    fetch("/api/v1/auth/logout", { method: "POST" }).finally(function () {
      sessionStorage.removeItem(TOKEN_KEY);
      window.location.reload();
    });
  });

  // -- preferences ---------------------------------------------------------------------------

  function loadPreferences() {
    api("/api/v1/console/preferences").then(function (prefs) {
      var form = $("preferences");
      form.languages.value = prefs.languages.join(", ");
      form.capacity.value = String(prefs.capacity);
      form.translation.checked = prefs.translation;
    });
  }

  $("preferences").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var body = {
      languages: form.languages.value.split(/[\s,]+/).filter(Boolean),
      capacity: parseInt(form.capacity.value, 10),
      translation: form.translation.checked
    };
    api("/api/v1/console/preferences", { method: "PUT", json: body }).then(function (saved) {
      state.agent.languages = saved.languages;
      $("who").textContent = state.agent.email + " · reads " + saved.languages.join(", ");
      $("preferences-status").textContent = "Saved.";
    }).catch(function (error) { $("preferences-status").textContent = error.message; });
  });

  // -- the queue -----------------------------------------------------------------------------

  function refreshQueue() {
    return api("/api/v1/console/threads?view=" + state.view).then(function (body) {
      var previous = state.threads[state.selected];
      state.threads = body.threads;
      var keep = previous ? state.threads.findIndex(function (t) { return t.conversation_id === previous.conversation_id; }) : -1;
      state.selected = keep >= 0 ? keep : Math.min(state.selected, Math.max(state.threads.length - 1, 0));
      renderQueue();
    }).catch(function (error) {
      if (error.status === 401) { sessionStorage.removeItem(TOKEN_KEY); window.location.reload(); }
    });
  }

  function renderQueue() {
    var list = $("queue");
    clear(list);
    $("queue-empty").hidden = state.threads.length > 0;
    state.threads.forEach(function (thread, index) {
      var item = el("li", "thread-item " + thread.state);
      item.id = "thread-" + thread.conversation_id;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", index === state.selected ? "true" : "false");
      item.dataset.index = String(index);
      if (thread.conversation_id === state.open) { item.classList.add("open"); }
      var top = el("div", "thread-top");
      top.appendChild(el("span", "badge language", (thread.language || "?").toUpperCase()));
      top.appendChild(el("span", "badge state-" + thread.state, thread.state === "queued" ? "waiting" : "with an agent"));
      top.appendChild(el("span", "reason", reason(thread.reason)));
      var wait = el("span", "waited", waited(thread.since));
      wait.dataset.since = thread.since || "";
      top.appendChild(wait);
      var unread = state.unread[thread.conversation_id] || 0;
      if (unread) { top.appendChild(el("span", "badge unread", unread + " new")); }
      item.appendChild(top);
      var first = el("p", "first", thread.first_message || "(no message yet)");
      first.dir = "auto";
      if (thread.language) { first.lang = thread.language; }
      item.appendChild(first);
      var mine = state.agent && thread.agent_id === state.agent.id;
      var offered = state.agent && thread.offered_to === state.agent.id;
      if (mine) { item.appendChild(el("p", "owner", "You hold this thread")); }
      else if (offered) { item.appendChild(el("p", "owner offered", "Offered to you")); }
      item.setAttribute("aria-label", [
        (thread.language || "unknown language"), thread.state === "queued" ? "waiting " + waited(thread.since) : "with an agent",
        reason(thread.reason), unread ? unread + " unread" : "", offered ? "offered to you" : "", thread.first_message
      ].filter(Boolean).join(", "));
      item.addEventListener("click", function () { select(index); openThread(thread.conversation_id); });
      list.appendChild(item);
    });
    var current = state.threads[state.selected];
    if (current) { list.setAttribute("aria-activedescendant", "thread-" + current.conversation_id); }
    else { list.removeAttribute("aria-activedescendant"); }
  }

  function renderWaiting() {
    Array.prototype.forEach.call(document.querySelectorAll(".waited"), function (node) {
      node.textContent = waited(node.dataset.since);
    });
  }

  function select(index) {
    if (!state.threads.length) { return; }
    state.selected = Math.max(0, Math.min(index, state.threads.length - 1));
    renderQueue();
    var item = $("queue").children[state.selected];
    if (item) { item.scrollIntoView({ block: "nearest" }); }
  }

  Array.prototype.forEach.call(document.querySelectorAll(".view"), function (button) {
    button.addEventListener("click", function () {
      state.view = button.dataset.view;
      Array.prototype.forEach.call(document.querySelectorAll(".view"), function (other) {
        other.setAttribute("aria-pressed", other === button ? "true" : "false");
      });
      refreshQueue();
    });
  });

  function beep() {
    if (!state.audio) { return; }
    try {
      var oscillator = state.audio.createOscillator();
      var gain = state.audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, state.audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, state.audio.currentTime + 0.3);
      oscillator.connect(gain);
      gain.connect(state.audio.destination);
      oscillator.start();
      oscillator.stop(state.audio.currentTime + 0.3);
    } catch (ignored) { /* a console without sound still shows and announces the thread */ }
  }

  function newlyQueued(event) {
    var text = "New thread in " + (event.language || "an unknown language") + ": " + reason(event.reason);
    if (state.agent && event.offered_to === state.agent.id) { text += " (offered to you)"; }
    announce(text);
    beep();
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification("Parley: " + text, { body: event.first_message || "", tag: event.conversation_id });
    }
  }

  // -- the agent socket ----------------------------------------------------------------------

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/api/v1/agent/ws?token=" + encodeURIComponent(state.token));
    state.socket = socket;
    socket.addEventListener("open", function () {
      state.retry = 500;
      $("connection").textContent = "Live";
      $("connection").className = "connection live";
      if (state.open && state.thread && state.thread.last_seen) {
        socket.send(JSON.stringify({ type: "resume", conversation_id: state.open, after: state.thread.last_seen }));
      }
    });
    socket.addEventListener("message", function (event) { onFrame(JSON.parse(event.data)); });
    socket.addEventListener("close", function (event) {
      $("connection").className = "connection";
      if (event.code === 4401) {
        sessionStorage.removeItem(TOKEN_KEY);
        $("connection").textContent = "Signed out: " + event.reason;
        return;
      }
      $("connection").textContent = "Reconnecting…";
      window.setTimeout(connect, state.retry);
      state.retry = Math.min(state.retry * 2, 10000);
    });
  }

  function onFrame(frame) {
    if (frame.type === "queue") {
      if (frame.event === "queued") { newlyQueued(frame); }
      refreshQueue();
      if (frame.conversation_id && frame.conversation_id === state.open) { reloadHeader(); }
    } else if (frame.type === "message") {
      if (frame.conversation_id === state.open) {
        addMessage(frame);
      } else if (frame.role === "shopper") {
        state.unread[frame.conversation_id] = (state.unread[frame.conversation_id] || 0) + 1;
        renderQueue();
      }
    } else if (frame.type === "translation") {
      state.translations[frame.conversation_id + ":" + frame.seq] = frame;
      if (frame.conversation_id === state.open) { fillTranslation(frame.seq); }
    } else if (frame.type === "typing" && frame.conversation_id === state.open && frame.role === "shopper") {
      $("thread-status").textContent = "The shopper is typing…";
      window.setTimeout(function () { $("thread-status").textContent = ""; }, 3000);
    } else if (frame.type === "error") {
      $("thread-status").textContent = frame.message;
    }
  }

  // -- one thread ----------------------------------------------------------------------------

  function openThread(conversationId) {
    state.open = conversationId;
    state.seqs = {};
    delete state.unread[conversationId];
    $("no-thread").hidden = true;
    $("thread-body").hidden = false;
    clear($("messages"));
    $("thread-status").textContent = "";
    $("transcript-txt").href = "/api/v1/conversations/" + conversationId + "/transcript?format=txt";
    $("transcript-json").href = "/api/v1/conversations/" + conversationId + "/transcript?format=json";
    renderQueue();
    return api("/api/v1/conversations/" + conversationId + "/thread").then(function (body) {
      if (state.open !== conversationId) { return; }
      showHeader(body);
      body.messages.forEach(addMessage);
      body.owner_changes.forEach(addChange);
      showPending(body.pending_action);
      loadCustomer(conversationId);
      loadCases(conversationId);
    }).catch(function (error) { $("thread-status").textContent = error.message; });
  }

  function reloadHeader() {
    var id = state.open;
    api("/api/v1/conversations/" + id + "/thread").then(function (body) {
      if (state.open !== id) { return; }
      showHeader(body);
      body.messages.forEach(addMessage);
      showPending(body.pending_action);
    });
  }

  function showHeader(body) {
    var conversation = body.conversation;
    state.thread = { conversation: conversation, last_seen: (state.thread && state.thread.conversation.id === conversation.id) ? state.thread.last_seen : 0 };
    var mine = conversation.state === "human" && conversation.agent_id === state.agent.id;
    $("thread-title").textContent = "Thread " + conversation.id.slice(0, 8);
    $("thread-facts").textContent = [
      "Language: " + (conversation.language || "unknown"),
      "State: " + (conversation.state === "human" ? (mine ? "you hold it" : "another agent holds it") : conversation.state),
      "Hand-off reason: " + reason(conversation.reason),
      body.verified_customer ? "Verified shopper: " + body.verified_customer : "Shopper not verified"
    ].join(" · ");
    $("take").hidden = mine || conversation.state === "resolved";
    $("resolve").hidden = !mine;
    $("reply").hidden = !mine;
    $("hand-back").hidden = !mine;
    $("reply-label").textContent = "Reply in your language (" + (state.agent.languages[0] || "?") + ")";
    if (!mine) { clearSuggestion(); }
    $("preview-language").textContent = "(" + (conversation.language || "?") + ")";
  }

  function roleName(role) {
    return { shopper: "Shopper", bot: "Bot", agent: "Agent", system: "Notice" }[role] || role;
  }

  function addMessage(frame) {
    var existing = state.seqs[frame.seq];
    // The thread endpoint's copy carries the bot's turn; a socket frame of the same seq does not.
    if (existing && (existing.dataset.turn || !frame.turn)) { return; }
    var item = el("li", "msg " + frame.role);
    item.dataset.seq = String(frame.seq);
    item.dataset.at = frame.created_at || "";
    if (frame.turn) { item.dataset.turn = "1"; }
    // The agent's own reply reads as they wrote it; what the shopper received shows below.
    var own = frame.role === "agent" && frame.original ? frame.original : frame;
    var head = el("p", "msg-head");
    head.appendChild(el("strong", null, roleName(frame.role)));
    var time = frame.created_at ? new Date(frame.created_at).toLocaleTimeString() : "";
    head.appendChild(el("span", "meta", " " + time + (own.language ? " · " + own.language : "")));
    item.appendChild(head);
    var text = el("p", "text", own.text);
    text.dir = "auto";
    if (own.language) { text.lang = own.language; }
    item.appendChild(text);
    if (frame.role === "agent" && frame.translation) { item.appendChild(sentSlot(frame)); }
    if (frame.role === "shopper") {
      var slot = el("div", "translation pending");
      slot.appendChild(el("p", "translation-title", "Translation (" + (state.agent.languages[0] || "?") + ")"));
      slot.appendChild(el("p", "translation-text", "…"));
      slot.appendChild(el("p", "translation-status", "waiting for the translation"));
      item.appendChild(slot);
      if (frame.translation) {
        state.translations[state.open + ":" + frame.seq] = frame.translation;
      }
    }
    if (frame.role === "bot" && frame.turn) { item.appendChild(turnDetails(frame)); }
    if (frame.handback_note) {
      item.appendChild(el("p", "note", "Note from the agent who handed back: " + frame.handback_note));
    }
    if (existing) {
      $("messages").replaceChild(item, existing);
    } else {
      // Keep the thread in seq order even when a resume or a gap fill arrives late.
      var after = null;
      Object.keys(state.seqs).map(Number).sort(function (a, b) { return a - b; }).forEach(function (seq) {
        if (seq > frame.seq && after === null) { after = state.seqs[seq]; }
      });
      $("messages").insertBefore(item, after);
    }
    state.seqs[frame.seq] = item;
    if (state.thread) { state.thread.last_seen = Math.max(state.thread.last_seen || 0, frame.seq); }
    if (frame.role === "shopper") { fillTranslation(frame.seq); }
    item.scrollIntoView({ block: "nearest" });
  }

  function sentSlot(frame) {
    var slot = el("div", "translation sent " + frame.translation.status);
    slot.appendChild(el("p", "translation-title", "The shopper received (" + (frame.language || "?") + ")"));
    if (frame.original) {
      var received = el("p", "translation-text", frame.text);
      received.dir = "auto";
      if (frame.language) { received.lang = frame.language; }
      slot.appendChild(received);
    }
    slot.appendChild(el("p", "translation-status", frame.translation.status === "translated"
      ? "translated into " + frame.language
      : "Not translated: " + (frame.translation.reason || "no translation") + " — the shopper received your words as written"));
    return slot;
  }

  function fillTranslation(seq) {
    var item = state.seqs[seq];
    var translation = state.translations[state.open + ":" + seq];
    if (!item || !translation) { return; }
    var slot = item.querySelector(".translation");
    if (!slot) { return; }
    slot.className = "translation " + translation.status;
    var text = slot.querySelector(".translation-text");
    text.textContent = translation.text;
    text.dir = "auto";
    var status = slot.querySelector(".translation-status");
    if (translation.status === "translated") { status.textContent = "translated into " + (translation.language || "?"); }
    else if (translation.status === "same_language") { status.textContent = "already in your language"; }
    else { status.textContent = "Not translated: " + (translation.reason || "no translation"); }
  }

  function turnDetails(frame) {
    var turn = frame.turn;
    var box = el("div", "turn");
    var facts = [
      "intent " + turn.intent, "outcome " + turn.outcome,
      "confidence " + Math.round((turn.confidence || 0) * 100) + "%"
    ];
    if (turn.handoff) { facts.push("handed off: " + reason(turn.handoff.reason)); }
    box.appendChild(el("p", "meta", facts.join(" · ")));
    if (turn.tool_calls && turn.tool_calls.length) {
      var tools = el("details", "tools");
      tools.appendChild(el("summary", null, "Tool calls (" + turn.tool_calls.length + ")"));
      var list = el("ul");
      turn.tool_calls.forEach(function (call) {
        var line = el("li", call.status === "ok" ? "ok" : "error");
        line.appendChild(el("code", null, call.name + " " + JSON.stringify(call.arguments)));
        line.appendChild(el("span", "meta", " → " + call.status));
        list.appendChild(line);
      });
      tools.appendChild(list);
      box.appendChild(tools);
    }
    if (frame.citations && frame.citations.length) {
      var sources = el("details", "sources");
      sources.appendChild(el("summary", null, "Sources (" + frame.citations.length + ")"));
      var cited = el("ol");
      frame.citations.forEach(function (citation, index) {
        var source = el("li");
        var open = el("details", "source");
        open.appendChild(el("summary", null, citation.document + " — " + citation.section +
          " (" + Math.round(citation.score * 100) + "%)"));
        var passage = el("blockquote", null, "…");
        passage.dir = "auto";
        if (citation.language) { passage.lang = citation.language; }
        open.appendChild(passage);
        open.addEventListener("toggle", function () {
          if (!open.open || open.dataset.loaded) { return; }
          open.dataset.loaded = "1";
          api("/api/v1/conversations/" + state.open + "/messages/" + frame.seq + "/passages").then(function (body) {
            var found = body.passages[index];
            passage.textContent = (found && found.text) || "The passage is no longer in the knowledge base.";
          }).catch(function (error) { passage.textContent = error.message; });
        });
        source.appendChild(open);
        cited.appendChild(source);
      });
      sources.appendChild(cited);
      box.appendChild(sources);
    }
    return box;
  }

  function addChange(change) {
    if (change.to !== "queued" && change.actor.indexOf("agent:") !== 0) { return; }
    var text = change.to === "queued" ? "Queued for a person: " + reason(change.reason)
      : change.to === "human" ? "Taken by an agent"
      : change.to === "bot" ? "Handed back to the bot" + (change.reason.indexOf("handed back: ") === 0 ? " — " + change.reason.slice(13) : "")
      : "Resolved";
    var item = el("li", "event", text + " · " + new Date(change.at).toLocaleTimeString());
    // In time order among the messages.
    var later = Array.prototype.find.call($("messages").children, function (node) {
      return node.dataset.at && Date.parse(node.dataset.at) > Date.parse(change.at);
    });
    $("messages").insertBefore(item, later || null);
  }

  function showPending(action) {
    var box = $("pending");
    clear(box);
    if (!action) { box.appendChild(el("p", "empty", "Nothing pending.")); return; }
    box.appendChild(el("p", null, action.summary || "A change waits for the shopper's yes."));
    if (action.expires_at) { box.appendChild(el("p", "meta", "Expires " + new Date(action.expires_at).toLocaleString())); }
  }

  function loadCustomer(conversationId) {
    var box = $("customer");
    api("/api/v1/conversations/" + conversationId + "/customer").then(function (body) {
      if (state.open !== conversationId) { return; }
      clear(box);
      if (!body.verified) { box.appendChild(el("p", "empty", "The shopper has not proven who they are.")); return; }
      box.appendChild(el("p", null, body.customer.name + " · " + body.customer.email));
      box.appendChild(el("p", "meta", body.customer.address));
      var table = el("table", "orders");
      var head = el("tr");
      ["Order", "Status", "Items", "Paid"].forEach(function (name) { head.appendChild(el("th", null, name)); });
      table.appendChild(head);
      body.orders.forEach(function (order) {
        var row = el("tr");
        row.appendChild(el("td", null, order.order_id));
        row.appendChild(el("td", "status-" + order.status, order.status));
        row.appendChild(el("td", null, order.items.map(function (item) { return item.name; }).join(", ")));
        row.appendChild(el("td", null, order.paid));
        table.appendChild(row);
      });
      box.appendChild(table);
    }).catch(function (error) { clear(box); box.appendChild(el("p", "status", error.message)); });
  }

  function loadCases(conversationId) {
    var box = $("cases");
    api("/api/v1/conversations/" + conversationId + "/cases").then(function (body) {
      if (state.open !== conversationId) { return; }
      clear(box);
      if (!body.cases.length) { box.appendChild(el("p", "empty", "No case.")); return; }
      body.cases.forEach(function (found) {
        var details = el("details", "case");
        details.appendChild(el("summary", null, found.kind + " · " + found.state + " · order " +
          (found.order_id || "?") + " · " + (found.evidence.amount || "")));
        details.appendChild(el("p", null, found.reason || ""));
        var evidence = el("pre", "evidence", JSON.stringify(found.evidence, null, 2));
        details.appendChild(evidence);
        box.appendChild(details);
      });
    }).catch(function (error) { clear(box); box.appendChild(el("p", "status", error.message)); });
  }

  // -- what the agent does in a thread -------------------------------------------------------

  function act(path, body) {
    var id = state.open;
    return api("/api/v1/conversations/" + id + "/" + path, { method: "POST", json: body || {} })
      .then(function () { refreshQueue(); return openThread(id); })
      .catch(function (error) { $("thread-status").textContent = error.message; });
  }

  function take() {
    if (!state.open) { return; }
    act("take").then(function () { $("reply-text").focus(); });
  }

  $("take").addEventListener("click", take);
  $("resolve").addEventListener("click", function () { act("resolve"); });
  $("hand-back").addEventListener("submit", function (event) {
    event.preventDefault();
    var note = $("hand-back-note").value;
    act("handback", { note: note }).then(function () { $("hand-back-note").value = ""; });
  });

  var previewTimer = null;
  $("reply-text").addEventListener("input", function () {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(preview, 350);
  });

  function preview() {
    var text = $("reply-text").value.trim();
    if (!text || !state.open) { $("preview-text").textContent = ""; $("preview-status").textContent = ""; return; }
    api("/api/v1/conversations/" + state.open + "/preview", { method: "POST", json: { text: text } }).then(function (body) {
      if ($("reply-text").value.trim() !== text) { return; }
      $("preview-text").textContent = body.text;
      $("preview-text").dir = "auto";
      var status = $("preview-status");
      status.className = "translation-status " + body.status;
      status.textContent = body.status === "translated" ? "translated into " + body.language
        : body.status === "same_language" ? "the shopper reads your language"
        : "Not translated: " + (body.reason || "no translation") + " — the shopper receives your words as written";
    }).catch(function (error) { $("preview-status").textContent = error.message; });
  }

  var sending = false;

  function send() {
    var box = $("reply-text");
    var text = box.value.trim();
    if (!text || !state.open || sending) { return; }
    var clientId = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    // Translating for the shopper asks the model: a local one takes seconds.
    sending = true;
    $("send").disabled = true;
    $("thread-status").textContent = "Sending (translating for the shopper)…";
    api("/api/v1/conversations/" + state.open + "/messages", { method: "POST", json: { text: text, client_id: clientId } })
      .then(function (body) {
        addMessage(body.message);
        box.value = "";
        $("preview-text").textContent = "";
        $("preview-status").textContent = "";
        clearSuggestion();
        var translation = body.message.translation;
        $("thread-status").textContent = !translation ? "Sent."
          : translation.status === "translated" ? "Sent, translated into " + body.message.language + "."
          : "Sent untranslated: " + translation.reason;
      })
      .catch(function (error) { $("thread-status").textContent = error.message; })
      .finally(function () { sending = false; $("send").disabled = false; });
  }

  // -- a suggested reply ---------------------------------------------------------------------

  function clearSuggestion() {
    clear($("suggestion"));
    $("suggestion").hidden = true;
  }

  function suggest() {
    var id = state.open;
    if (!id) { return; }
    var button = $("suggest");
    button.disabled = true;
    clearSuggestion();
    $("thread-status").textContent = "Drafting a reply from the knowledge base and the orders…";
    api("/api/v1/conversations/" + id + "/suggestion", { method: "POST", json: {} }).then(function (body) {
      if (state.open !== id) { return; }
      showSuggestion(body);
      if (body.text) {
        $("reply-text").value = body.text;
        $("reply-text").focus();
        preview();
        $("thread-status").textContent = "Draft inserted: edit it, then send.";
      } else {
        $("thread-status").textContent = "";
      }
    }).catch(function (error) { $("thread-status").textContent = error.message; })
      .finally(function () { button.disabled = false; });
  }

  function showSuggestion(body) {
    var box = $("suggestion");
    clear(box);
    box.hidden = false;
    box.appendChild(el("p", "translation-title", "Suggested reply"));
    if (!body.question) {
      box.appendChild(el("p", "empty", "The shopper has not asked anything yet."));
      return;
    }
    if (!body.text) {
      box.appendChild(el("p", "empty", "Nothing in the knowledge base or the shopper's orders answers this; write your own reply."));
    }
    if (body.untranslated) {
      box.appendChild(el("p", "translation-status untranslated", "Not in your language: " + body.reason));
    } else if (body.drafted_by === "passage") {
      box.appendChild(el("p", "translation-status", "Quoted from the knowledge base (no chat model to word it)."));
    }
    if (body.citations.length) {
      var sources = el("ol", "draft-sources");
      body.citations.forEach(function (citation) {
        var open = el("details", "source");
        open.appendChild(el("summary", null, citation.document + " — " + citation.section +
          " (" + Math.round(citation.score * 100) + "%)"));
        var passage = el("blockquote", null, citation.quote);
        passage.dir = "auto";
        if (citation.language) { passage.lang = citation.language; }
        open.appendChild(passage);
        var line = el("li");
        line.appendChild(open);
        sources.appendChild(line);
      });
      box.appendChild(el("p", "meta", "From the knowledge base (open a source to read the passage):"));
      box.appendChild(sources);
    }
    if (body.orders.length) {
      box.appendChild(el("p", "meta", "From the verified shopper's orders: " +
        body.orders.map(function (order) { return order.order_id + " (" + order.status + ")"; }).join(", ")));
    }
  }

  $("suggest").addEventListener("click", suggest);

  $("reply").addEventListener("submit", function (event) { event.preventDefault(); send(); });
  $("reply-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
  });

  // -- keyboard ------------------------------------------------------------------------------

  document.addEventListener("keydown", function (event) {
    if ($("desk").hidden) { return; }
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (event.key === "Escape") { $("queue").focus(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); select(state.selected + 1); }
    else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); select(state.selected - 1); }
    else if (event.key === "Enter" && document.activeElement === $("queue")) {
      var chosen = state.threads[state.selected];
      if (chosen) { event.preventDefault(); openThread(chosen.conversation_id); }
    } else if (event.key === "t") {
      if (!state.open && state.threads[state.selected]) {
        openThread(state.threads[state.selected].conversation_id).then(take);
      } else { take(); }
    } else if (event.key === "/") {
      if (!$("reply").hidden) { event.preventDefault(); $("reply-text").focus(); }
    }
  });

  // -- start ---------------------------------------------------------------------------------

  if (state.token) {
    api("/api/v1/auth/me").then(function (agent) { state.agent = agent; showDesk(); })
      .catch(function () { sessionStorage.removeItem(TOKEN_KEY); state.token = null; });
  }
}());
