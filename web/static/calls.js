// ipdesk: the helpdesk's live call popup, on every page of a user with
// the helpdesk role. It listens to the event stream (topic calls) and
// shows a card per call: the number, where and who, the matching hosts
// with links, the hosts table filtered to the matches, and for a number
// that matched nothing a form to store it with a room or a host (through
// the JSON API, which checks the rights). Cards stack, newest nearest the
// corner; later events mark a call answered, missed or ended.
//
// Nothing is lost between pages or on a broken connection: the stream's
// position (the SSE id) is kept in sessionStorage with the cards, so the
// next page of the tab resumes the stream there (last_event_id), and
// EventSource itself resends Last-Event-ID when it reconnects; the server
// replays what was missed from the call log. A "reset" event (more was
// missed than is replayed) reloads the newest calls from the call log.
//
// Timing: a call still ringing STALE_MS after its last event (GET
// /set_call reports only the ring; a PBX that reports answer and hangup
// updates it) is shown as "missed?"; a card goes KEEP_MS after its call's
// last event, or when dismissed (× or Escape).
"use strict";

(() => {
  const texts = document.getElementById("calls-texts");
  const box = document.getElementById("calls");
  const cardTpl = document.getElementById("call-card");
  if (!texts || !box || !cardTpl || document.body.dataset.helpdesk !== "1") {
    return;
  }
  const T = texts.dataset;

  const STALE_MS = 45 * 1000;
  const KEEP_MS = 15 * 60 * 1000;
  const RESUME_MS = 10 * 60 * 1000; // a stored stream position older than this is not resumed
  const MAX_SHOWN = 4;
  const MAX_KEPT = 12;
  const CARD_HOSTS = 5;
  const KEY = "ipdesk.calls";

  // fmt fills %s and %d of a catalogue text in order.
  const fmt = (s, ...args) => {
    let i = 0;
    return String(s).replace(/%[sd]/g, () => String(args[i++]));
  };
  // digits returns a phone number's digits with a leading "+".
  const digits = (p) => String(p || "").trim().replace(/(?!^\+)[^0-9]/g, "");
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  };

  // ---- State, kept per tab across pages ----

  // state.last is the stream position; state.calls the calls shown or
  // dismissed: {id, call, state, at (when its last event came), dismissed}.
  const state = (() => {
    try {
      const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
      if (s && Array.isArray(s.calls)) {
        if (!(Date.now() - s.saved < RESUME_MS)) {
          s.last = 0;
        }
        return s;
      }
    } catch (e) {
      // Storage off or spoilt: start afresh.
    }
    return { last: 0, saved: 0, calls: [] };
  })();

  function save() {
    state.saved = Date.now();
    state.calls.sort((a, b) => b.id - a.id);
    state.calls = state.calls.filter((r) => state.saved - r.at < KEEP_MS).slice(0, MAX_KEPT);
    try {
      sessionStorage.setItem(KEY, JSON.stringify(state));
    } catch (e) {
      // Full or off: the cards live on this page only.
    }
  }

  function setLast(id) {
    const n = parseInt(id, 10);
    if (n > 0 && n !== state.last) {
      state.last = n;
      save();
    }
  }

  // record takes a call as an event or the call log gives it.
  function record(call, callState, at) {
    if (!call || !call.id) {
      return;
    }
    let r = state.calls.find((x) => x.id === call.id);
    if (!r) {
      r = { id: call.id, dismissed: false };
      state.calls.push(r);
    }
    r.call = call;
    r.state = callState || call.state;
    r.at = at;
  }

  // ---- Cards ----

  const cards = new Map(); // call id → card element

  function build(r) {
    const c = r.call;
    const m = c.matches || {};
    const card = cardTpl.content.firstElementChild.cloneNode(true);
    card.dataset.call = String(c.id);
    card.callRecord = r;
    const q = (sel) => card.querySelector(sel);
    const number = (c.from && c.from.raw || "").trim() ? c.from.raw : T.noNumber;
    q(".call-number").textContent = number;
    const norm = c.from && c.from.number;
    q(".call-normalised").textContent = norm && norm !== c.from.raw ? norm : "";
    q(".call-normalised").hidden = !(norm && norm !== c.from.raw);
    const started = new Date(c.started);
    const time = q(".call-time");
    if (!isNaN(started)) {
      time.dateTime = c.started;
      time.textContent = window.ipdesk.time(started);
    }
    const locs = m.locations || [];
    const people = m.people || [];
    const where = locs.map((l) => l.path || l.name).join("; ");
    const who = people.map((p) => p.name).join("; ");
    q(".call-where").textContent = where;
    q(".call-where").hidden = q(".call-where-label").hidden = !where;
    q(".call-people").textContent = who;
    q(".call-people").hidden = q(".call-people-label").hidden = !who;
    q(".call-who").hidden = !where && !who;
    let note = "";
    if (c.from && c.from.kind === "unknown") {
      note = T.notNumber;
    } else if (m.kind === "extension") {
      note = T.extension;
    } else if (m.kind !== "full") {
      note = T.unknown;
    }
    q(".call-note").textContent = note;
    q(".call-note").hidden = !note;
    card.setAttribute("aria-label", where ? number + " – " + where : number);

    const hosts = m.hosts || [];
    const tbody = q(".call-hosts tbody");
    for (const h of hosts.slice(0, CARD_HOSTS)) {
      const tr = el("tr");
      const ip = el("td", "mono");
      const a = el("a", "", h.address);
      a.href = "/hosts/" + encodeURIComponent(h.id);
      ip.append(a);
      tr.append(ip, el("td", "mono", h.mac || ""), el("td", "", h.hostname || ""));
      tbody.append(tr);
    }
    q(".call-hosts").hidden = hosts.length === 0;
    const more = Math.max(m.hosts_total || 0, hosts.length) - Math.min(hosts.length, CARD_HOSTS);
    q(".call-more").textContent = more > 0 ? fmt(T.moreHosts, more) : "";
    q(".call-more").hidden = more <= 0;

    // The hosts table filtered to the matches: per location, and per
    // matched person's phone.
    const links = q(".call-links");
    const detail = q(".call-detail");
    const link = (href, text) => {
      const li = el("li");
      const a = el("a", "", text);
      a.href = href;
      li.append(a);
      links.insertBefore(li, detail.parentElement);
    };
    // Only for a user who may see some hosts: the table would be empty.
    if (T.hostLinks === "1") {
      for (const l of locs) {
        link("/hosts?location=" + encodeURIComponent(l.id), fmt(T.hostsIn, l.path || l.name));
      }
      const phones = [];
      for (const p of people) {
        if (p.phone && !phones.includes(p.phone)) {
          phones.push(p.phone);
          link("/hosts?q=" + encodeURIComponent(p.phone), fmt(T.hostsWithPhone, p.phone));
        }
      }
    }
    detail.href = "/calls/" + encodeURIComponent(c.id);

    const slot = q(".call-assign-slot");
    if (m.suggestion && m.suggestion.phone && T.canAssign === "1") {
      const open = document.getElementById("call-assign-open").content.firstElementChild.cloneNode(true);
      open.addEventListener("click", () => openAssign(c.id, slot, open));
      slot.append(open);
    }
    q(".call-dismiss").addEventListener("click", () => dismiss(card));
    return card;
  }

  // update shows the state of the card's call.
  function update(card, now) {
    const r = card.callRecord;
    const stale = r.state === "ring" && now - r.at > STALE_MS;
    const shown = stale ? "stale" : r.state;
    const badge = card.querySelector(".call-state");
    const text = T["state" + shown.charAt(0).toUpperCase() + shown.slice(1)] || shown;
    if (badge.textContent !== text) {
      badge.textContent = text;
    }
    badge.className = "badge call-state state-" + shown;
    card.classList.toggle("stale", stale);
    card.classList.toggle("over", r.state === "missed" || r.state === "ended");
  }

  let moreLink = null;
  let statusLine = null;
  let booted = false;

  function render() {
    const now = Date.now();
    const live = state.calls.filter((r) => !r.dismissed && r.call && now - r.at < KEEP_MS).sort((a, b) => b.id - a.id);
    const shown = live.slice(0, MAX_SHOWN);
    const keep = new Set(shown.map((r) => r.id));
    for (const [id, card] of cards) {
      if (!keep.has(id)) {
        card.remove();
        cards.delete(id);
      }
    }
    let prev = null;
    for (const r of shown) {
      let card = cards.get(r.id);
      if (!card) {
        card = build(r);
        // Only a call that comes while the page is open pops up; the
        // cards the last page left are simply there.
        card.classList.toggle("fresh", booted);
        cards.set(r.id, card);
      }
      card.callRecord = r;
      update(card, now);
      const want = prev ? prev.nextElementSibling : box.firstElementChild;
      if (card !== want) {
        box.insertBefore(card, want);
      }
      prev = card;
    }
    const hidden = live.length - shown.length;
    if (hidden > 0) {
      if (!moreLink) {
        moreLink = el("a", "calls-more");
        moreLink.href = "/calls";
      }
      moreLink.textContent = fmt(T.moreCalls, hidden);
      box.append(moreLink);
    } else if (moreLink) {
      moreLink.remove();
    }
    if (statusLine) {
      box.append(statusLine);
    }
  }

  function dismiss(card) {
    const r = card.callRecord;
    r.dismissed = true;
    const hadFocus = card.contains(document.activeElement);
    const next = card.nextElementSibling && card.nextElementSibling.classList.contains("call-card") ? card.nextElementSibling
      : (card.previousElementSibling && card.previousElementSibling.classList.contains("call-card") ? card.previousElementSibling : null);
    save();
    render();
    if (hadFocus) {
      const target = next && next.isConnected ? next.querySelector(".call-dismiss") : document.getElementById("main");
      if (target) {
        target.focus();
      }
    }
  }

  // Escape dismisses the card that has the focus (outside its form).
  box.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || e.target.closest("form")) {
      return;
    }
    const card = e.target.closest(".call-card");
    if (card) {
      e.preventDefault();
      dismiss(card);
    }
  });

  // ---- Add this number to a room or person ----

  async function openAssign(callID, slot, button) {
    button.disabled = true;
    let res;
    try {
      res = await fetch("/calls/" + encodeURIComponent(callID) + "/assign", { credentials: "same-origin", headers: { "Accept": "text/html" } });
    } catch (e) {
      res = null;
    }
    if (!res || !res.ok || res.redirected) {
      button.disabled = false;
      const p = el("p", "error", fmt(T.failed, res ? res.status + " " + res.statusText : "network"));
      p.setAttribute("role", "alert");
      slot.append(p);
      return;
    }
    // The form is the server's HTML, escaped by html/template; it holds
    // no script.
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const form = doc.querySelector("form.call-assign");
    if (!form) {
      button.disabled = false;
      return;
    }
    const mine = document.adoptNode(form);
    slot.replaceChildren(mine);
    wireAssign(mine);
    const first = mine.querySelector("select, input:not([type=radio])");
    if (first) {
      first.focus();
    }
  }

  // wireAssign sends an "add this number" form through the JSON API: a
  // location gets the number added to its phones, a host (picked from
  // the hosts found as one types) gets it as its phone. Errors are shown
  // beside their field; the server decides what the user may change.
  function wireAssign(form) {
    const phone = form.dataset.phone;
    const loc = form.querySelector("select[name=location_id]");
    const host = form.querySelector("input[name=host]");
    const found = form.querySelector(".assign-found");
    const status = form.querySelector(".assign-status");
    const radio = (v) => form.querySelector(`input[name=target][value="${v}"]`);
    let picked = null;
    let timer = 0;
    let seq = 0;

    const fieldError = (input, msg) => {
      const span = document.getElementById(input.id + "-error");
      input.setAttribute("aria-invalid", "true");
      if (span) {
        span.textContent = msg;
        span.hidden = false;
        const ids = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== span.id);
        ids.push(span.id);
        input.setAttribute("aria-describedby", ids.join(" "));
      }
      input.focus();
    };
    const clearErrors = () => {
      for (const input of [loc, host]) {
        if (!input) {
          continue;
        }
        input.removeAttribute("aria-invalid");
        const span = document.getElementById(input.id + "-error");
        if (span) {
          span.hidden = true;
          span.textContent = "";
        }
      }
      status.textContent = "";
      status.classList.remove("error");
    };

    if (loc) {
      loc.addEventListener("change", () => {
        if (radio("location")) {
          radio("location").checked = true;
        }
      });
    }
    if (host) {
      host.addEventListener("input", () => {
        if (radio("host")) {
          radio("host").checked = true;
        }
        picked = null;
        clearTimeout(timer);
        timer = setTimeout(search, 200);
      });
    }

    async function search() {
      const q = host.value.trim();
      const mySeq = ++seq;
      found.replaceChildren();
      if (q.length < 2) {
        return;
      }
      let data;
      try {
        ({ data } = await window.ipdesk.api("GET", "/api/v1/addresses?limit=8&q=" + encodeURIComponent(q)));
      } catch (e) {
        if (mySeq === seq) {
          found.textContent = fmt(T.failed, e.message);
        }
        return;
      }
      if (mySeq !== seq) {
        return; // a newer search is on its way
      }
      const hosts = data.results || [];
      if (hosts.length === 0) {
        found.textContent = T.noHosts;
        return;
      }
      const list = el("ul", "assign-hosts");
      hosts.forEach((a) => {
        const li = el("li");
        const id = host.id + "-pick-" + a.id;
        const input = el("input");
        input.type = "radio";
        input.name = host.id + "-pick";
        input.id = id;
        input.value = String(a.id);
        const label = el("label", "", [a.address, a.hostname, a.owner].filter(Boolean).join(" · ") + (a.phone ? " (" + fmt(T.replaces, a.phone) + ")" : ""));
        label.htmlFor = id;
        input.addEventListener("change", () => {
          picked = a;
        });
        const exact = a.address === q || (a.hostname || "").toLowerCase() === q.toLowerCase();
        if (hosts.length === 1 || exact && !picked) {
          input.checked = true;
          picked = a;
        }
        li.append(input, label);
        list.append(li);
      });
      found.append(list);
    }

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors();
      const checked = form.querySelector("input[name=target]:checked");
      const target = checked ? checked.value : (loc ? "location" : "host");
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        let label;
        if (target === "location") {
          if (!loc.value) {
            fieldError(loc, T.chooseLocation);
            return;
          }
          const url = "/api/v1/locations/" + encodeURIComponent(loc.value);
          const { data, etag } = await window.ipdesk.api("GET", url);
          const phones = data.phones || [];
          if (!phones.some((p) => digits(p) === digits(phone))) {
            await window.ipdesk.api("PATCH", url, { phones: phones.concat([phone]) }, { "If-Match": etag });
          }
          label = loc.selectedOptions[0] ? loc.selectedOptions[0].textContent : data.name;
        } else {
          if (!picked) {
            fieldError(host, T.pickHost);
            return;
          }
          await window.ipdesk.api("PATCH", "/api/v1/addresses/" + encodeURIComponent(picked.id), { phone }, { "If-Match": '"' + picked.version + '"' });
          label = picked.hostname ? picked.hostname + " (" + picked.address + ")" : picked.address;
        }
        status.textContent = fmt(T.added, label);
        form.classList.add("done");
        for (const c of form.querySelectorAll("input, select")) {
          c.disabled = true;
        }
        button.hidden = true;
      } catch (err) {
        const input = (err.field === "phones" || err.field === "location_id") ? loc : (err.field === "phone" ? host : null);
        if (input) {
          fieldError(input, err.message);
        } else {
          status.textContent = fmt(T.failed, err.message);
          status.classList.add("error");
        }
      } finally {
        button.disabled = false;
      }
    });
  }

  // The form of a call's page gets the same treatment.
  for (const form of document.querySelectorAll("main form.call-assign")) {
    wireAssign(form);
  }

  // ---- The stream ----

  let es = null;
  let failures = 0;
  let retryTimer = 0;
  let statusTimer = 0;

  function showStatus(on) {
    clearTimeout(statusTimer);
    if (!on) {
      if (statusLine) {
        statusLine.remove();
        statusLine = null;
      }
      return;
    }
    // Only a connection lost for more than a moment is worth a word.
    statusTimer = setTimeout(() => {
      if (!statusLine) {
        statusLine = el("p", "calls-status", T.reconnecting);
        statusLine.setAttribute("role", "status");
      }
      box.append(statusLine);
    }, 1500);
  }

  // A page that shows the call log, or a call, says when new events came.
  const logPage = location.pathname === "/calls" || /^\/calls\/\d+$/.test(location.pathname);
  let noticed = false;
  function noticeNew(callID) {
    if (!logPage || noticed) {
      return;
    }
    if (location.pathname !== "/calls" && location.pathname !== "/calls/" + callID) {
      return;
    }
    noticed = true;
    const main = document.getElementById("main");
    const p = el("p", "flash calls-reload");
    p.setAttribute("role", "status");
    const a = el("a", "", T.reload || "");
    a.href = location.pathname + location.search;
    p.append(a);
    if (main) {
      main.prepend(p);
    }
  }

  function connect() {
    clearTimeout(retryTimer);
    const p = new URLSearchParams({ topics: "calls" });
    if (state.last > 0) {
      p.set("last_event_id", String(state.last));
    }
    es = new EventSource("/api/v1/events?" + p.toString());
    es.addEventListener("ready", (e) => {
      failures = 0;
      showStatus(false);
      setLast(e.lastEventId);
    });
    es.addEventListener("call", (e) => {
      let d;
      try {
        d = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      record(d.call, d.state, Date.now());
      setLast(e.lastEventId);
      save();
      render();
      noticeNew(d.call && d.call.id);
    });
    es.addEventListener("reset", (e) => {
      setLast(e.lastEventId);
      reloadRecent();
    });
    es.onerror = () => {
      showStatus(true);
      if (es.readyState === EventSource.CLOSED) {
        // Refused (signed out, too many tabs) rather than cut: the
        // browser does not retry; try again later, resuming.
        es.close();
        failures = Math.min(failures + 1, 6);
        retryTimer = setTimeout(connect, 1000 * 2 ** failures);
      }
    };
  }

  // reloadRecent takes the newest calls from the call log, after a reset.
  async function reloadRecent() {
    const since = new Date(Date.now() - KEEP_MS).toISOString();
    try {
      const { data } = await window.ipdesk.api("GET", "/api/v1/calls?limit=" + MAX_SHOWN + "&since=" + encodeURIComponent(since));
      const now = Date.now();
      for (const c of data.results || []) {
        const at = Math.min(now, Date.parse(c.updated) || now);
        record(c, c.state, at);
      }
      save();
      render();
    } catch (e) {
      // The next event brings the cards up to date.
    }
  }

  render();
  booted = true;
  connect();
  setInterval(render, 5000);
  // Leaving the page closes the stream (the next page resumes it); a page
  // back from the browser's cache opens it again.
  window.addEventListener("pagehide", () => {
    if (es) {
      es.close();
    }
    clearTimeout(retryTimer);
  });
  window.addEventListener("pageshow", (e) => {
    if (e.persisted) {
      render();
      connect();
    }
  });
})();
