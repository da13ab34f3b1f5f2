// Console and admin pages: sign in, then the merchant's documents, a bot tester and the policy.
(function () {
  "use strict";
  var root = document.getElementById("app");
  var page = root.dataset.page;
  var token = sessionStorage.getItem("parley:token");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({}, options.headers || {});
    if (token) { options.headers.Authorization = "Bearer " + token; }
    if (options.json !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.json);
    }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error((body.error && body.error.message) || ("HTTP " + response.status)); }
        return body;
      });
    });
  }

  function section(title) {
    var box = el("section", { "class": "card" }, [el("h2", { text: title })]);
    root.appendChild(box);
    return box;
  }

  function documents() {
    var box = section("Documents");
    var status = el("p", { "class": "status", role: "status" });
    var table = el("table", { "class": "docs" });
    var form = el("form", {}, [
      el("input", { type: "file", name: "files", multiple: "multiple", "aria-label": "Documents to upload" }),
      el("button", { type: "submit", text: "Upload" })
    ]);
    box.appendChild(form); box.appendChild(status); box.appendChild(table);
    function refresh() {
      api("/api/v1/documents").then(function (body) {
        table.innerHTML = "<tr><th>Name</th><th>Language</th><th>Status</th><th>Chunks</th></tr>";
        body.documents.forEach(function (doc) {
          table.appendChild(el("tr", {}, [
            el("td", { text: doc.name }), el("td", { text: doc.language || "" }),
            el("td", { text: doc.status + (doc.error ? " — " + doc.error : "") }),
            el("td", { text: String(doc.chunks) })
          ]));
        });
      }).catch(function (error) { status.textContent = error.message; });
    }
    function watch(jobId) {
      api("/api/v1/jobs/" + jobId).then(function (job) {
        status.textContent = "Indexing: " + job.processed + " / " + job.total +
          (job.errors.length ? " — " + job.errors.map(function (e) { return e.file + ": " + e.reason; }).join("; ") : "");
        if (job.state === "queued" || job.state === "running") { setTimeout(function () { watch(jobId); }, 700); }
        refresh();
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      api("/api/v1/documents", { method: "POST", body: data })
        .then(function (body) { watch(body.job_id); })
        .catch(function (error) { status.textContent = error.message; });
    });
    refresh();
  }

  function tester() {
    var box = section("Try the bot");
    var input = el("input", { type: "text", "aria-label": "Shopper message", placeholder: "Ask as a shopper would, in any language" });
    var out = el("div", { "class": "answer", role: "status" });
    var form = el("form", {}, [input, el("button", { type: "submit", text: "Ask" })]);
    box.appendChild(form); box.appendChild(out);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      out.textContent = "…";
      api("/api/v1/ask", { method: "POST", json: { message: input.value, session: "admin-tester" } }).then(function (turn) {
        out.textContent = "";
        out.appendChild(el("p", { text: turn.reply }));
        out.appendChild(el("p", { "class": "meta", text: "language " + turn.language + " · intent " + turn.intent + " · " + turn.outcome }));
        turn.citations.forEach(function (c) {
          out.appendChild(el("p", { "class": "meta", text: "source: " + c.document + " › " + c.section + " (" + c.score + ")" }));
        });
      }).catch(function (error) { out.textContent = error.message; });
    });
  }

  function policy() {
    var box = section("Store policy");
    var area = el("textarea", { rows: "10", "aria-label": "Policy (JSON)" });
    var status = el("p", { "class": "status", role: "status" });
    var save = el("button", { type: "button", text: "Save policy" });
    box.appendChild(area); box.appendChild(save); box.appendChild(status);
    api("/api/v1/store/policy").then(function (body) { area.value = JSON.stringify(body, null, 2); });
    save.addEventListener("click", function () {
      var parsed;
      try { parsed = JSON.parse(area.value); } catch (e) { status.textContent = "Not valid JSON: " + e.message; return; }
      api("/api/v1/store/policy", { method: "PUT", json: parsed })
        .then(function () { status.textContent = "Saved."; })
        .catch(function (error) { status.textContent = error.message; });
    });
  }

  function signedIn(agent) {
    root.innerHTML = "";
    root.appendChild(el("h1", { text: "Parley " + page + " — " + agent.store }));
    root.appendChild(el("p", { text: "Signed in as " + agent.email + " (" + agent.role + ")" }));
    if (page === "admin") {
      if (agent.role !== "admin") { root.appendChild(el("p", { text: "This page needs a store admin." })); return; }
      documents(); tester(); policy();
    } else {
      section("Queue").appendChild(el("p", {
        text: "Escalated conversations are recorded with their reason; the live queue, take-over and translated replies arrive with live conversations."
      }));
    }
  }

  var login = document.getElementById("login");
  login.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(login);
    api("/api/v1/auth/login", { method: "POST", json: { email: data.get("email"), password: data.get("password") } })
      .then(function (body) {
        token = body.token;
        sessionStorage.setItem("parley:token", token);
        signedIn(body.agent);
      })
      .catch(function (error) { login.querySelector(".status").textContent = error.message; });
  });
  if (token) {
    api("/api/v1/auth/me").then(signedIn).catch(function () { sessionStorage.removeItem("parley:token"); token = null; });
  }
})();
