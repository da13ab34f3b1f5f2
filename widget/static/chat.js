// The chat app inside the widget iframe. It talks to /api/v1/widget/*.
(function () {
  "use strict";
  var params = new URLSearchParams(location.hash.slice(1));
  var list = document.getElementById("messages");
  function show(role, text) {
    var item = document.createElement("li");
    item.className = role;
    item.textContent = text;
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }
  fetch("/api/v1/widget/sessions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ key: params.get("key"), locale: params.get("locale") || "en" })
  }).then(function (response) {
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    return response.json();
  }).then(function (session) {
    show("system", (session.strings && session.strings.greeting) || "Hello! How can we help?");
  }).catch(function () {
    show("system", "The chat is not available right now.");
  });
  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("input");
    var text = input.value.trim();
    if (!text) { return; }
    show("shopper", text);
    input.value = "";
  });
})();
