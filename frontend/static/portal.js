/* SupportOps portal: progressive enhancement, no framework.
 *
 * Everything works without this file (plain forms, server-rendered times). With it:
 * - forms marked data-live are sent in place: the message shows at once, a working indicator
 *   names the steps and is announced to screen readers, and the answer replaces the page's
 *   main part without a reload (the server's own page, so nothing is rendered twice);
 * - a slow answer says so honestly (the form keeps its Idempotency key: nothing runs twice);
 * - what is typed in a composer is kept in this browser until it is sent, so an expired
 *   session or a failed send loses nothing (restored after signing in);
 * - <time data-relative> shows local, relative times ("5 min ago");
 * - a text box with a limit (maxlength) counts down near it and says plainly when the text is
 *   too long, instead of the browser silently cutting what was pasted.
 */
(function () {
  "use strict";

  var DRAFT_PREFIX = "supportops-draft:";
  // After this long an answer counts as slow and the page says so (tests may shorten it).
  var SLOW_AFTER_MS = window.SUPPORTOPS_SLOW_AFTER_MS || 9000;
  var STEP_EVERY_MS = 1100;
  var busy = false;

  /* ---------- small helpers ---------- */

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function announce(text) {
    var region = document.getElementById("live-status");
    if (!region) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  /* ---------- local, relative times ---------- */

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }

  // Dates are written one way in the whole portal, as the server writes them: "26 Nov 2026"
  // (frontend/filters.py), here in the reader's own time zone.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function dateText(d) { return d.getDate() + " " + MONTHS[d.getMonth()] + " " + d.getFullYear(); }

  function dayWord(d, now) {
    var start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    var days = Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()) - start) / 86400000);
    if (days === 0) { return "today"; }
    if (days === -1) { return "yesterday"; }
    if (days === 1) { return "tomorrow"; }
    return dateText(d) + ",";
  }

  function relative(d, now) {
    var seconds = (now - d) / 1000;
    var abs = Math.abs(seconds);
    if (abs < 45) { return "just now"; }
    if (abs < 3600) {
      var minutes = Math.round(abs / 60);
      return seconds > 0 ? minutes + " min ago" : "in " + minutes + " min";
    }
    if (seconds > 0 && abs < 6 * 3600) { return Math.round(abs / 3600) + " h ago"; }
    return dayWord(d, now) + " " + clock(d);
  }

  function updateTimes(root) {
    var now = new Date();
    (root || document).querySelectorAll("time[data-relative]").forEach(function (node) {
      var d = new Date(node.getAttribute("datetime"));
      if (isNaN(d.getTime())) { return; }
      node.textContent = relative(d, now);
      node.title = dateText(d) + ", " + clock(d);
    });
  }

  /* ---------- drafts: nothing typed is lost ---------- */

  function draftKey(form) {
    var key = form && form.getAttribute("data-draft-key");
    return key ? DRAFT_PREFIX + key : null;
  }

  function saveDraft(form) {
    var key = draftKey(form), store = storage();
    var box = form && form.querySelector("textarea[name=message]");
    if (!key || !store || !box) { return; }
    try {
      if (box.value.trim()) { store.setItem(key, box.value); } else { store.removeItem(key); }
    } catch (e) { /* storage full or blocked: the form still works */ }
  }

  function clearDraft(key) {
    var store = storage();
    if (key && store) { try { store.removeItem(key); } catch (e) { /* ignore */ } }
  }

  function restoreDrafts(root) {
    var store = storage();
    if (!store) { return; }
    root.querySelectorAll("form[data-draft-key]").forEach(function (form) {
      var box = form.querySelector("textarea[name=message]");
      var kept = store.getItem(draftKey(form));
      if (!box || !kept || box.value.trim()) { return; }
      box.value = kept;
      var note = form.querySelector("[data-draft-note]");
      if (note) { note.hidden = false; }
    });
  }

  function clearAllDrafts() {
    var store = storage();
    if (!store) { return; }
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf(DRAFT_PREFIX) === 0) { store.removeItem(key); }
    }
  }

  /* ---------- character limits: visible, never a silent cut ---------- */

  // The server renders maxlength (without JavaScript the browser stops typing there). Here it
  // becomes a soft limit: nothing pasted is cut, a counter appears near the limit, and a text
  // that is too long is marked and not sent until it is shortened.
  var NEAR_LIMIT = 0.9;

  function number(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  // Characters as the server counts them (code points: an emoji is one, a line break is one).
  function charCount(text) { return Array.from(text).length; }

  function limitState(box) {
    var limit = parseInt(box.getAttribute("data-limit"), 10);
    var length = charCount(box.value);
    if (length > limit) { return "over"; }
    return length >= Math.floor(limit * NEAR_LIMIT) ? "near" : "ok";
  }

  function updateCounter(box) {
    var counter = document.getElementById(box.id + "-count");
    if (!counter) { return; }
    var limit = parseInt(box.getAttribute("data-limit"), 10);
    var length = charCount(box.value);
    var state = limitState(box);
    counter.hidden = state === "ok";
    counter.classList.toggle("text-danger", state === "over");
    counter.classList.toggle("fw-semibold", state === "over");
    if (state === "over") {
      counter.textContent = number(length - limit) + " characters too many: the limit is " +
        number(limit) + ". Please shorten it before sending.";
    } else {
      var left = limit - length;
      counter.textContent = number(left) + (left === 1 ? " character" : " characters") +
        " left (of " + number(limit) + ").";
    }
    var previous = box.getAttribute("data-limit-state");
    if (state === "over") {
      box.classList.add("is-invalid");
      box.setAttribute("aria-invalid", "true");
    } else if (previous === "over") { // shortened enough: the mark goes with the problem
      box.classList.remove("is-invalid");
      box.removeAttribute("aria-invalid");
    }
    // Announce only when the state changes, not on every key.
    if (previous !== state) {
      if (state !== "ok" || previous === "over") { announce(counter.textContent); }
      box.setAttribute("data-limit-state", state);
    }
  }

  function setUpLimits(root) {
    root.querySelectorAll("textarea[maxlength]").forEach(function (box) {
      if (!box.id) { return; }
      box.setAttribute("data-limit", box.getAttribute("maxlength"));
      box.removeAttribute("maxlength");
      var counter = el("div", "form-text char-count");
      counter.id = box.id + "-count";
      counter.setAttribute("data-testid", "char-count");
      counter.hidden = true;
      box.insertAdjacentElement("afterend", counter);
      var described = (box.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      described.push(counter.id);
      box.setAttribute("aria-describedby", described.join(" "));
      box.setAttribute("data-limit-state", "ok");
      updateCounter(box);
    });
  }

  function tooLong(form) {
    var boxes = form.querySelectorAll("textarea[data-limit]");
    for (var i = 0; i < boxes.length; i++) {
      if (limitState(boxes[i]) === "over") { return boxes[i]; }
    }
    return null;
  }

  /* ---------- the working indicator ---------- */

  var POLICY_WORDS = [
    [/refund|money back|reimburs|return/i, "Checking the refund policy"],
    [/cancel/i, "Checking the cancellation policy"],
    [/replace|broken|damaged|defect|faulty|wrong (item|size|colou?r)|cracked/i, "Checking the replacement policy"],
    [/where|track|deliver|ship|arriv|late|status/i, "Looking up the delivery"],
    [/person|human|agent|someone|manager|call me/i, "Finding a person on our team"]
  ];

  /* The steps the assistant really takes for this message: read it, tie it to the customer's
     orders, read the policy that applies, answer. */
  function stepsFor(text, form) {
    var given = form.getAttribute("data-steps");
    if (given) { return given.split("|").concat(["Writing the answer"]); }
    var person = document.querySelector("#conversation[data-person]");
    if (person) { return ["Sending your message to " + person.getAttribute("data-person")]; }
    var steps = ["Reading your message"];
    var orders = (text.match(/\b\d{3,8}\b/g) || []).slice(0, 2);
    orders.forEach(function (id) { steps.push("Checking order #" + id); });
    if (!orders.length && /order|my |it |the /i.test(text)) { steps.push("Looking at your orders"); }
    POLICY_WORDS.forEach(function (pair) {
      if (pair[0].test(text) && steps.length < 5) { steps.push(pair[1]); }
    });
    steps.push("Writing the answer");
    return steps;
  }

  function Indicator(thread, steps) {
    this.steps = steps;
    this.index = 0;
    this.row = el("li", "chat-row chat-row-assistant working");
    this.row.setAttribute("data-testid", "working");
    var bubble = el("div", "chat-bubble chat-assistant working-bubble");
    this.dots = el("span", "working-dots");
    this.dots.setAttribute("aria-hidden", "true");
    this.dots.appendChild(el("span")); this.dots.appendChild(el("span")); this.dots.appendChild(el("span"));
    this.label = el("span", "working-step");
    this.label.setAttribute("data-testid", "working-step");
    this.slow = el("p", "working-slow small mb-0 mt-1");
    this.slow.hidden = true;
    bubble.appendChild(this.dots);
    bubble.appendChild(this.label);
    bubble.appendChild(this.slow);
    this.row.appendChild(bubble);
    if (thread) { thread.appendChild(this.row); }
    this.show();
    var self = this;
    this.timer = window.setInterval(function () { self.next(); }, STEP_EVERY_MS);
    this.slowTimer = window.setTimeout(function () { self.tooSlow(); }, SLOW_AFTER_MS);
  }

  Indicator.prototype.show = function () {
    var text = this.steps[this.index] + "…";
    this.label.textContent = text;
    announce(text);
  };

  Indicator.prototype.next = function () {
    if (this.index < this.steps.length - 1) { this.index += 1; this.show(); }
  };

  Indicator.prototype.tooSlow = function () {
    this.slow.hidden = false;
    this.slow.textContent = "This is taking longer than usual. We're still on it — you don't " +
      "need to send it again, and nothing will be done twice.";
    announce(this.slow.textContent);
  };

  Indicator.prototype.stop = function () {
    window.clearInterval(this.timer);
    window.clearTimeout(this.slowTimer);
    if (this.row.parentNode) { this.row.parentNode.removeChild(this.row); }
  };

  /* ---------- sending a form in place ---------- */

  function pendingBubble(thread, text) {
    var row = el("li", "chat-row chat-row-user pending");
    var bubble = el("div", "chat-bubble chat-user");
    bubble.appendChild(el("span", "visually-hidden", "You: "));
    bubble.appendChild(el("span", "preserve-lines", text));
    row.appendChild(bubble);
    row.appendChild(el("div", "chat-meta small text-body-secondary", "Sending…"));
    thread.appendChild(row);
    row.scrollIntoView({ block: "nearest" });
    return row;
  }

  function failed(form, thread, message) {
    var note = el("div", "alert alert-danger mt-2 send-failed");
    note.setAttribute("role", "alert");
    note.textContent = message;
    (thread ? thread.parentNode : form.parentNode).insertBefore(note, form);
    note.scrollIntoView({ block: "nearest" });
  }

  function swapMain(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("main");
    var current = document.getElementById("main");
    if (!fresh || !current) { return false; }
    current.replaceWith(fresh);
    document.title = doc.title;
    // The menu marks the page the customer is on: take the new page's menu too.
    var freshNav = doc.querySelector("#main-nav .navbar-nav");
    var nav = document.querySelector("#main-nav .navbar-nav");
    if (freshNav && nav) { nav.replaceWith(freshNav); }
    if (url && url !== window.location.href.split("#")[0]) {
      window.history.pushState({ live: true }, "", url + (fresh.querySelector("#latest") ? "#latest" : ""));
    }
    return true;
  }

  function focusAfterSwap(main) {
    var invalid = main.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); return; }
    var latest = main.querySelector("#latest");
    if (latest) {
      latest.focus({ preventScroll: true });
      latest.scrollIntoView({ block: "start" });
      announce("New answer: " + latest.textContent.replace(/\s+/g, " ").trim().slice(0, 400));
      return;
    }
    main.focus();
  }

  function send(form, submitter) {
    if (busy) { return; }
    busy = true;
    var box = form.querySelector("textarea[name=message]");
    var text = box ? box.value.trim() : (form.getAttribute("data-says") || "");
    var thread = document.querySelector("#conversation .transcript");
    var key = draftKey(form);
    saveDraft(form);
    var data = new FormData(form, submitter || undefined);
    var buttons = form.querySelectorAll("button, input[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    document.querySelectorAll(".send-failed").forEach(function (n) { n.remove(); });
    var bubble = (thread && text) ? pendingBubble(thread, text) : null;
    var indicator = new Indicator(thread, form.querySelector("[name=rating]") || (submitter && submitter.name === "rating")
      ? ["Saving your rating"] : stepsFor(text, form));
    if (box) { box.setAttribute("aria-busy", "true"); }

    function done() {
      busy = false;
      indicator.stop();
      buttons.forEach(function (b) { b.disabled = false; });
      if (box) { box.removeAttribute("aria-busy"); }
    }

    window.fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "text/html" }
    }).then(function (response) {
      var signIn = new URL(response.url).pathname === "/login";
      return response.text().then(function (html) {
        done();
        // Did the server take the message? It answers a message it took (sent, or queued while
        // the assistant is away) with a redirect to the conversation, or in place with no field
        // marked invalid (a greeting). Then the draft is forgotten at once, before any page is
        // enhanced (which restores drafts) and even if the next page fails to load: a message
        // that was sent must never come back into the box to be sent twice. Signed out
        // meanwhile, refused, or failed: the draft waits in this browser.
        var invalid = /aria-invalid="?true/.test(html);
        var taken = !signIn && (response.redirected || (response.ok && !invalid));
        if (taken) { clearDraft(key); }
        // Only a redirect leads to a page with an address of its own; a form answered in place
        // (an error, a greeting) keeps the address the customer is on.
        if (!swapMain(html, response.redirected ? response.url : null)) {
          if (bubble) { bubble.remove(); }
          failed(form, thread, taken
            ? "Your message was sent, but the answer didn't load. Please reload the page."
            : "Something went wrong on our side. What you wrote is kept — please press Send " +
              "again; nothing will be done twice.");
          return;
        }
        var main = document.getElementById("main");
        enhance(main);
        focusAfterSwap(main);
      });
    }).catch(function () {
      done();
      if (bubble) { bubble.remove(); }
      failed(form, thread, "We couldn't reach SupportOps — check your connection. What you wrote " +
        "is kept; press Send again when you're back online. Nothing will be done twice.");
    });
  }

  /* ---------- wiring ---------- */

  function enhance(root) {
    updateTimes(root);
    setUpLimits(root);
    restoreDrafts(root);
    root.querySelectorAll("textarea[data-limit]").forEach(updateCounter);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-sign-out")) { clearAllDrafts(); return; }
    var long = tooLong(form);
    if (long) { // nothing is sent: the counter under the box says by how much to shorten it
      event.preventDefault();
      updateCounter(long);
      long.focus();
      announce(document.getElementById(long.id + "-count").textContent);
      return;
    }
    if (!form.hasAttribute("data-live") || !window.fetch || !window.FormData) { return; }
    var box = form.querySelector("textarea[name=message]");
    if (box && !box.value.trim()) { return; } // let the server explain what's missing
    event.preventDefault();
    send(form, event.submitter);
  });

  document.addEventListener("input", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-limit")) {
      updateCounter(event.target);
    }
    var form = event.target.form;
    if (form && form.hasAttribute("data-draft-key")) { saveDraft(form); }
  });

  document.addEventListener("keydown", function (event) {
    // Ctrl/Cmd+Enter sends a message from the composer.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.form &&
        event.target.form.hasAttribute("data-live") && event.target.name === "message") {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  window.addEventListener("popstate", function () { window.location.reload(); });

  function start() {
    enhance(document);
    var invalid = document.querySelector("#main [aria-invalid=true]");
    if (invalid) { invalid.focus(); }
    window.setInterval(function () { updateTimes(document); }, 60000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
