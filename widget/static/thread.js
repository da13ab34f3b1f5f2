// The thread as the shopper sees it: messages in sequence order, the bot's reply while it
// streams, citations that open to the quoted passage, and cards for actions to confirm.
(function (chat) {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return values[name] !== undefined && values[name] !== null ? String(values[name]) : whole;
    });
  }

  function Thread(list, strings) {
    this.list = list;
    this.strings = strings;
    this.seen = {};        // seq -> true: a resumed or repeated frame is drawn once
    this.drafts = {};      // reply_to -> the bot's reply while its tokens arrive
  }

  // Who wrote a message, read out before its text (the bubbles' colours say it to sighted users).
  Thread.prototype.author = function (role, frame) {
    var s = this.strings;
    if (role === "agent") { return frame && frame.author ? frame.author : s.agent; }
    return { shopper: s.you, bot: s.assistant }[role] || "";
  };

  Thread.prototype.bubble = function (role, text, frame) {
    var item = el("li", "msg " + role);
    var author = this.author(role, frame);
    if (author) {
      item.appendChild(el("span", role === "agent" ? "author" : "author visually-hidden", author));
    }
    var body = el("div", "text", text);
    // A text runs in its own script's direction (chat.css: paragraph by paragraph), so a German
    // passage quoted to an Arabic shopper reads left to right inside the right-to-left widget.
    body.dir = "auto";
    if (frame && frame.language) { body.lang = frame.language; }
    item.appendChild(body);
    return item;
  };

  Thread.prototype.citations = function (citations) {
    var s = this.strings;
    var box = el("details", "sources");
    box.appendChild(el("summary", null, fill(s.sources, { count: citations.length })));
    var items = el("ol");
    citations.forEach(function (citation) {
      var where = citation.section ? citation.document + " · " + citation.section : citation.document;
      var quote = citation.quote || citation.passage || citation.text || "";
      var item = el("li");
      if (quote) {
        var source = el("details", "source");
        source.appendChild(el("summary", null, where));
        var passage = el("blockquote", null, quote);
        passage.dir = "auto";
        if (citation.language) { passage.lang = citation.language; }
        source.appendChild(passage);
        item.appendChild(source);
      } else {
        item.textContent = where;
      }
      items.appendChild(item);
    });
    box.appendChild(items);
    return box;
  };

  // Place an item with a sequence number among the others by seq; the rest keep arrival order.
  Thread.prototype.place = function (item, seq) {
    var after = null;
    var nodes = this.list.children;
    for (var i = 0; i < nodes.length; i++) {
      var other = Number(nodes[i].dataset.seq || 0);
      if (other > seq) { after = nodes[i]; break; }
    }
    this.list.insertBefore(item, after);
  };

  // A stored message frame (from the socket or the history); returns false if already shown.
  Thread.prototype.message = function (frame) {
    if (this.seen[frame.seq]) { return false; }
    this.seen[frame.seq] = true;
    var item = this.bubble(frame.role, frame.text, frame);
    item.dataset.seq = String(frame.seq);
    if (frame.citations && frame.citations.length) { item.appendChild(this.citations(frame.citations)); }
    var pending = frame.client_id && this.list.querySelector('li.pending[data-client-id="' + CSS.escape(frame.client_id) + '"]');
    if (pending) {
      pending.parentNode.removeChild(pending);
    }
    if (frame.role === "bot") { this.dropDraft(frame); }
    this.place(item, frame.seq);
    this.scroll();
    return true;
  };

  // The shopper's message before the server has stored it (offline, or on its way).
  Thread.prototype.pending = function (clientId, text) {
    if (this.list.querySelector('li.pending[data-client-id="' + CSS.escape(clientId) + '"]')) { return; }
    var item = this.bubble("shopper", text);
    item.classList.add("pending");
    item.dataset.clientId = clientId;
    item.appendChild(el("span", "note", this.strings.waiting));
    this.list.appendChild(item);
    this.scroll();
  };

  // Token frames and the stored reply name the shopper message they answer (`reply_to`).
  function draftKey(frame) {
    return frame.reply_to === undefined || frame.reply_to === null ? "?" : String(frame.reply_to);
  }

  // The stored reply replaces what streamed (the stored text is the one that counts). A frame
  // without `reply_to` on either side takes the draft there is.
  Thread.prototype.dropDraft = function (frame) {
    var key = draftKey(frame);
    var keys = Object.keys(this.drafts);
    if (!this.drafts[key]) { key = this.drafts["?"] ? "?" : (key === "?" && keys.length === 1 ? keys[0] : null); }
    if (key === null) { return; }
    var draft = this.drafts[key];
    delete this.drafts[key];
    draft.parentNode.removeChild(draft);
    if (!Object.keys(this.drafts).length) { this.list.removeAttribute("aria-busy"); }
  };

  // A turn that failed leaves no half-written reply behind.
  Thread.prototype.dropAllDrafts = function () {
    var self = this;
    Object.keys(this.drafts).forEach(function (key) { self.dropDraft({ reply_to: key === "?" ? null : key }); });
  };

  Thread.prototype.token = function (frame) {
    var key = draftKey(frame);
    var draft = this.drafts[key];
    if (!draft) {
      draft = this.drafts[key] = this.bubble("bot", "");
      draft.classList.add("draft");
      // Screen readers hear the finished reply once, not every token.
      this.list.setAttribute("aria-busy", "true");
      this.list.appendChild(draft);
    }
    draft.querySelector(".text").textContent += frame.delta || "";
    this.scroll();
  };

  Thread.prototype.notice = function (text, className) {
    var item = el("li", "notice" + (className ? " " + className : ""), text);
    this.list.appendChild(item);
    this.scroll();
    return item;
  };

  // A proposed write: its summary, Confirm and Cancel; `answer(accept)` sends the choice.
  Thread.prototype.action = function (frame, answer) {
    var s = this.strings;
    var existing = this.list.querySelector('li.action[data-action-id="' + CSS.escape(frame.action_id) + '"]');
    if (existing) { return existing; }
    var card = el("li", "action");
    card.dataset.actionId = frame.action_id;
    card.setAttribute("role", "group");
    card.setAttribute("aria-label", s.action_title);
    card.appendChild(el("p", "summary", frame.summary));
    var outcome = el("p", "outcome");
    if (frame.needs_confirmation !== false) {
      var buttons = el("div", "buttons");
      var confirm = el("button", "confirm", s.confirm);
      var cancel = el("button", "cancel", s.cancel);
      confirm.type = cancel.type = "button";
      var choose = function (accept) {
        confirm.disabled = cancel.disabled = true;
        outcome.textContent = accept ? s.confirmed : s.cancelled;
        card.classList.add("answered");
        answer(accept);
      };
      confirm.addEventListener("click", function () { choose(true); });
      cancel.addEventListener("click", function () { choose(false); });
      buttons.appendChild(confirm);
      buttons.appendChild(cancel);
      card.appendChild(buttons);
    }
    card.appendChild(outcome);
    if (frame.reply_to) {
      // Right under the reply that proposed it, whichever of the two frames came first.
      card.dataset.seq = String(frame.reply_to + 0.5);
      this.place(card, frame.reply_to + 0.5);
    } else {
      this.list.appendChild(card);
    }
    this.scroll();
    return card;
  };

  // Cards no longer waiting for an answer (answered elsewhere, or refused as stale).
  Thread.prototype.settle = function (text) {
    var cards = this.list.querySelectorAll("li.action:not(.answered)");
    Array.prototype.forEach.call(cards, function (card) {
      Array.prototype.forEach.call(card.querySelectorAll("button"), function (b) { b.disabled = true; });
      card.classList.add("answered");
      card.querySelector(".outcome").textContent = text;
    });
  };

  Thread.prototype.scroll = function () {
    this.list.scrollTop = this.list.scrollHeight;
  };

  chat.Thread = Thread;
  chat.el = el;
  chat.fill = fill;
})(window.ParleyChat = window.ParleyChat || {});
