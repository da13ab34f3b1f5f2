// Parley widget loader: the one script a store pastes. It adds a launcher button and the chat
// iframe; the chat itself runs in the iframe, on Parley's origin.
//   <script src="https://parley.example/widget/parley.js" data-key="pk_…" data-locale="de" async></script>
// `data-locale` (or window.ParleySettings = {locale: "de"}) overrides the browser's language.
(function () {
  "use strict";
  var script = document.currentScript;
  var key = script && script.getAttribute("data-key");
  if (!key) { console.error("parley: data-key is missing on the widget script tag"); return; }
  var options = window.ParleySettings || {};
  var origin = new URL(script.src).origin;
  var locale = script.getAttribute("data-locale") || options.locale || (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  var rtl = /^(ar|he|fa|ur)\b/i.test(locale);
  var side = rtl ? "left" : "right";
  var remembered = "parley-open:" + key;
  var labels = { open: "Open chat", close: "Close chat" };

  var frame = document.createElement("iframe");
  frame.id = "parley-frame";
  frame.title = "Chat with us";
  frame.src = origin + "/widget/chat.html#key=" + encodeURIComponent(key) + "&locale=" + encodeURIComponent(locale);
  // Styles through the CSSOM, which a host page's Content-Security-Policy does not block.
  frame.style.cssText = "position:fixed;bottom:90px;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 110px);border:0;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.18);display:none;z-index:2147483646;background:#fff";
  frame.style[side] = "12px";

  var button = document.createElement("button");
  button.type = "button";
  button.id = "parley-launcher";
  button.setAttribute("aria-controls", "parley-frame");
  // An inline SVG bubble: emoji fonts are missing on many shoppers' machines.
  button.innerHTML = '<svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">' +
    '<path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  button.style.cssText = "position:fixed;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#2f5bea;color:#fff;display:flex;align-items:center;justify-content:center;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.2);z-index:2147483647";
  button.style[side] = "20px";
  var badge = document.createElement("span");
  badge.id = "parley-unread";
  badge.style.cssText = "position:absolute;top:4px;width:12px;height:12px;border-radius:50%;background:#e5484d;border:2px solid #fff;display:none";
  badge.style[side] = "4px";
  button.appendChild(badge);

  function isOpen() { return frame.style.display !== "none"; }

  function show(open) {
    frame.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", String(open));
    button.setAttribute("aria-label", open ? labels.close : labels.open);
    try { sessionStorage.setItem(remembered, open ? "1" : ""); } catch (e) { /* storage off: forget */ }
    if (open) {
      badge.style.display = "none";
      frame.contentWindow.postMessage({ parley: "focus" }, origin);
    }
  }

  button.addEventListener("click", function () { show(!isOpen()); });
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || event.origin !== origin || !event.data || !event.data.parley) { return; }
    var message = event.data;
    if (message.type === "ready") {
      labels = message.labels || labels;
      frame.title = labels.title || frame.title;
      button.setAttribute("aria-label", isOpen() ? labels.close : labels.open);
    } else if (message.type === "close") {
      show(false);
      button.focus();
    } else if (message.type === "message" && !isOpen()) {
      badge.style.display = "block";
    }
  });

  document.body.appendChild(frame);
  document.body.appendChild(button);
  var reopen = false;
  try { reopen = sessionStorage.getItem(remembered) === "1"; } catch (e) { reopen = false; }
  // A shopper who had the chat open keeps it open on the store's next page.
  show(reopen);
})();
