// Parley widget loader: adds a launcher button and the chat iframe to the host page.
(function () {
  "use strict";
  var script = document.currentScript;
  var key = script && script.getAttribute("data-key");
  if (!key) { console.error("parley: data-key is missing on the widget script tag"); return; }
  var origin = new URL(script.src).origin;
  var locale = (navigator.language || "en").slice(0, 2);
  var frame = document.createElement("iframe");
  frame.title = "Chat with us";
  frame.src = origin + "/widget/chat.html#key=" + encodeURIComponent(key) + "&locale=" + encodeURIComponent(locale);
  frame.style.cssText = "position:fixed;right:20px;bottom:90px;width:370px;height:560px;max-height:calc(100vh - 110px);border:0;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.18);display:none;z-index:2147483646;background:#fff";
  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", "Open chat");
  button.id = "parley-launcher";
  // An inline SVG bubble: emoji fonts are missing on many shoppers' machines.
  button.innerHTML = '<svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">' +
    '<path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  button.style.cssText = "position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#2f5bea;color:#fff;display:flex;align-items:center;justify-content:center;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.2);z-index:2147483647";
  button.addEventListener("click", function () {
    var open = frame.style.display !== "none";
    frame.style.display = open ? "none" : "block";
    button.setAttribute("aria-label", open ? "Open chat" : "Close chat");
  });
  document.body.appendChild(frame);
  document.body.appendChild(button);
})();
