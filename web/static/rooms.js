// ipdesk: the timetable pages. The override grid says, before it is
// saved, which periods will switch; the occupancy view and a room's page
// update themselves when rooms switch or the plan changes (server-sent
// events, topic "rooms"; a minute's poll where those are not to be had),
// and the arrow keys move between the cells of a grid. Without this
// script the pages work as plain forms and links.
"use strict";

(() => {
  // pending tells that a refresh waits for the user to finish a form.
  let pending = false;
  const texts = document.getElementById("rooms-texts");
  const text = (k) => (texts && texts.dataset[k]) || "";
  // fmt fills the %s and %d of a catalogue text in order.
  const fmt = (s, ...args) => {
    let i = 0;
    return s.replace(/%[sd]/g, () => String(i < args.length ? args[i++] : ""));
  };
  const say = (msg, stale) => {
    const el = document.getElementById("rooms-live");
    if (el) {
      el.textContent = msg;
      el.classList.toggle("stale", !!stale);
    }
  };

  // ---- What will switch ----

  // nextState is the state a cell gets when its form is saved: a ticked
  // cell keeps its override or flips the timetable, an unticked one
  // follows the timetable.
  function nextState(cell, box) {
    const base = cell.dataset.base === "true";
    const blocked = cell.dataset.blocked === "true";
    if (!box.checked) {
      return base;
    }
    return cell.dataset.flipped === "true" ? blocked : !base;
  }

  // preview lists in the form the periods that saving will switch, and
  // marks their cells. The texts are set as text, never as HTML.
  function preview(form) {
    const changes = [];
    let touched = false;
    for (const box of form.querySelectorAll('input[name="flip"]')) {
      const cell = box.closest("td.cell");
      if (!cell) {
        continue;
      }
      touched = touched || box.checked !== box.defaultChecked;
      const blocked = cell.dataset.blocked === "true";
      const next = nextState(cell, box);
      cell.classList.toggle("changing", next !== blocked);
      if (next !== blocked) {
        changes.push({ room: cell.dataset.roomName, period: cell.dataset.period, blocked: next });
      }
    }
    const out = form.querySelector(".switch-preview");
    if (!out) {
      return;
    }
    out.replaceChildren();
    if (!touched) {
      return;
    }
    const p = document.createElement("p");
    if (changes.length === 0) {
      p.textContent = text("none");
      out.append(p);
      return;
    }
    p.textContent = text("will");
    const ul = document.createElement("ul");
    for (const c of changes) {
      const li = document.createElement("li");
      li.textContent = fmt(text(c.blocked ? "toBlocked" : "toOpen"), c.room, c.period);
      ul.append(li);
    }
    out.append(p, ul);
  }

  document.addEventListener("change", (e) => {
    const box = e.target;
    if (box instanceof HTMLInputElement && box.name === "flip" && box.form && box.form.classList.contains("override-form")) {
      preview(box.form);
      if (pending && !dirty(liveRoot())) {
        schedule();
      }
    }
  });
  const schedule = () => window.dispatchEvent(new Event("ipdesk-rooms-refresh"));

  // dirty tells whether the user has changed a form inside el that a
  // refresh would throw away.
  function dirty(el) {
    if (!el) {
      return false;
    }
    for (const input of el.querySelectorAll("input")) {
      if (input.type === "checkbox" || input.type === "radio") {
        if (input.checked !== input.defaultChecked) {
          return true;
        }
      } else if (input.type !== "hidden" && input.value !== input.defaultValue) {
        return true;
      }
    }
    const active = document.activeElement;
    return !!(active && el.contains(active) && active.matches('input:not([type="checkbox"]), select, textarea'));
  }

  // ---- Arrow keys in a grid ----

  const focusables = "input, a, button";
  document.addEventListener("keydown", (e) => {
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const move = moves[e.key];
    if (!move || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) {
      return;
    }
    const t = e.target;
    if (!(t instanceof Element) || t.matches('input:not([type="checkbox"]), select, textarea')) {
      return;
    }
    const cell = t.closest("table.occupancy td, table.occupancy th[scope=row]");
    const table = cell && cell.closest("table");
    if (!cell || !table) {
      return;
    }
    const rows = Array.from(table.tBodies[0].rows);
    const r = rows.indexOf(cell.parentElement);
    const c = Array.from(cell.parentElement.cells).indexOf(cell);
    const row = rows[r + move[0]];
    const target = row && row.cells[c + move[1]];
    if (!target) {
      return;
    }
    e.preventDefault();
    const inner = target.querySelector(focusables);
    if (inner) {
      inner.focus();
    } else {
      target.tabIndex = -1;
      target.focus();
    }
  });

  // ---- Live update ----

  // liveRoot is the part of the page that is fetched anew: the grid of
  // the occupancy view, or the state and day of a room's page.
  const liveRoot = () => document.getElementById("rooms-grid") || document.getElementById("room-live");
  const root = liveRoot();
  if (!root) {
    return;
  }
  const id = root.id;
  const source = root.dataset.grid || root.dataset.live || window.location.pathname + window.location.search;
  let timer = 0;
  let running = false;

  // refresh fetches the live part from the server and puts it in place of
  // the shown one, unless the user is changing a form there: then it
  // says that the plan changed and waits. The part is the server's own
  // HTML, whose data html/template has escaped; it carries no script.
  async function refresh() {
    if (document.hidden) {
      pending = true;
      return;
    }
    if (dirty(liveRoot())) {
      pending = true;
      say(text("stale"), true);
      return;
    }
    if (running) {
      pending = true;
      return;
    }
    running = true;
    pending = false;
    try {
      const res = await fetch(source, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (res.redirected || !res.ok) {
        say(text("failed"), true);
        return;
      }
      const html = await res.text();
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
      const old = liveRoot();
      if (!fresh || !old) {
        return;
      }
      if (dirty(old)) {
        pending = true;
        say(text("stale"), true);
        return;
      }
      const focused = document.activeElement && old.contains(document.activeElement) ? document.activeElement.id : "";
      old.replaceWith(document.adoptNode(fresh));
      if (focused) {
        const again = document.getElementById(focused);
        if (again) {
          again.focus();
        }
      }
      say(fmt(text("updated"), window.ipdesk.time(new Date(), true)));
    } catch (e) {
      say(text("failed"), true);
    } finally {
      running = false;
      if (pending) {
        schedule();
      }
    }
  }

  // A refresh comes soon after it is asked for, once for a burst of
  // events; the browsers open at a period's start spread their requests
  // over a second.
  window.addEventListener("ipdesk-rooms-refresh", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200 + Math.random() * 800);
  });

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && pending) {
      schedule();
    }
  });
  document.addEventListener("input", () => {
    if (pending && !dirty(liveRoot())) {
      schedule();
    }
  });

  let polling = 0;
  function poll() {
    if (!polling) {
      polling = setInterval(schedule, 60000);
    }
  }

  if (!window.EventSource) {
    poll();
    return;
  }
  let connected = false;
  const es = new EventSource("/api/v1/events?topics=rooms");
  es.addEventListener("ready", () => {
    // A stream opened again may have missed a change.
    if (connected) {
      schedule();
    }
    connected = true;
    document.body.dataset.roomsStream = "open";
  });
  es.addEventListener("rooms", schedule);
  es.addEventListener("error", () => {
    document.body.dataset.roomsStream = "closed";
    if (es.readyState === EventSource.CLOSED) {
      poll();
    }
  });
})();
