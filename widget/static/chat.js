// The chat app inside the widget iframe: opens a session, restores the thread after a reload.
(function () {
  "use strict";
  var params = new URLSearchParams(location.hash.slice(1));
  var key = params.get("key");
  var storageKey = "parley:" + key;
  var list = document.getElementById("messages");
  var input = document.getElementById("input");
  var session = null;
  var lastSeq = 0;

  function show(role, text, seq) {
    var item = document.createElement("li");
    item.className = role;
    item.textContent = text;
    if (seq) { item.dataset.seq = String(seq); lastSeq = Math.max(lastSeq, seq); }
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ "Content-Type": "application/json" }, options.headers || {});
    if (session) { options.headers.Authorization = "Bearer " + session.token; }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error((body.error && body.error.message) || response.status); }
        return body;
      });
    });
  }

  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(storageKey) || "{}"); } catch (e) { saved = {}; }

  api("/api/v1/widget/sessions", {
    method: "POST",
    body: JSON.stringify({
      key: key,
      locale: params.get("locale") || navigator.language || "en",
      conversation_id: saved.conversation_id || null,
      token: saved.token || null
    })
  }).then(function (opened) {
    session = opened;
    localStorage.setItem(storageKey, JSON.stringify({ conversation_id: opened.conversation_id, token: opened.token }));
    document.documentElement.lang = opened.language;
    document.getElementById("title").textContent = opened.strings.title;
    input.placeholder = opened.strings.placeholder;
    document.querySelector(".composer button").setAttribute("aria-label", opened.strings.send);
    if (opened.theme && opened.theme.accent) {
      document.documentElement.style.setProperty("--accent", opened.theme.accent);
    }
    show("system", opened.strings.greeting);
    return api("/api/v1/widget/conversations/" + opened.conversation_id + "/messages?after=0");
  }).then(function (history) {
    history.messages.forEach(function (m) { show(m.role, m.text, m.seq); });
  }).catch(function (error) {
    show("system", "The chat is not available right now.");
    console.error("parley:", error);
  });

  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || !session) { return; }
    show("shopper", text);
    input.value = "";
  });
})();
