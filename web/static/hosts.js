// ipdesk: the hosts page. Search as one types (the table comes from the
// server, the URL keeps the state), edit a cell in place through the API,
// move between cells with the arrow keys, and select rows for the bulk
// change. Without this script the page works as plain forms and links.
"use strict";

(() => {
  const form = document.getElementById("hosts-filter");
  if (!form) {
    return;
  }
  const texts = document.getElementById("hosts-texts");
  const text = (k) => (texts && texts.dataset[k]) || "";
  const live = document.getElementById("hosts-live");
  const say = (msg) => {
    if (live) {
      live.textContent = msg;
    }
  };

  // ---- Search and filters ----

  let timer = 0;
  let pending = null;

  // query returns the form's state as a query string, without empty
  // values and defaults; offset is left out, so a new search starts on
  // the first page.
  function query() {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (typeof v === "string" && v.trim() !== "") {
        p.set(k, v.trim());
      }
    }
    if (p.get("limit") === "50") {
      p.delete("limit");
    }
    return p.toString();
  }

  // refresh fetches the table for the form's state from the server and
  // puts it in place of the shown one. The fragment is the server's own
  // HTML, whose data html/template has escaped; it carries no script.
  async function refresh() {
    const qs = query();
    if (pending) {
      pending.abort();
    }
    const ctrl = new AbortController();
    pending = ctrl;
    let res;
    try {
      res = await fetch("/hosts/rows" + (qs ? "?" + qs : ""), {
        credentials: "same-origin", signal: ctrl.signal, headers: { "Accept": "text/html" },
      });
    } catch (e) {
      if (e.name !== "AbortError") {
        say(text("failed"));
      }
      return;
    }
    if (res.redirected) {
      // The session has ended: the whole page leads to the sign-in.
      window.location.assign("/hosts" + (qs ? "?" + qs : ""));
      return;
    }
    const html = await res.text();
    if (pending !== ctrl) {
      return; // a newer search is on its way
    }
    pending = null;
    const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("hosts-results");
    const old = document.getElementById("hosts-results");
    if (!fresh || !old) {
      return;
    }
    old.replaceWith(document.adoptNode(fresh));
    const url = "/hosts" + (qs ? "?" + qs : "");
    history.replaceState(null, "", url);
    followState(qs, url);
    markErrors(fresh);
    setup(fresh);
    const count = fresh.querySelector("#hosts-count");
    say(count ? count.textContent : "");
  }

  // followState points the export links and the bulk form at the list
  // shown now.
  function followState(qs, url) {
    const p = new URLSearchParams(qs);
    p.delete("offset");
    p.delete("limit");
    const eq = p.toString();
    for (const a of document.querySelectorAll("a[data-export]")) {
      a.href = "/hosts/export." + a.dataset.export + (eq ? "?" + eq : "");
    }
    const back = document.querySelector('#bulk input[name="back"]');
    if (back) {
      back.value = url;
    }
  }

  // markErrors marks the filter fields the server refused.
  function markErrors(root) {
    for (const el of form.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    }
    for (const p of root.querySelectorAll(".filter-errors [data-field]")) {
      const el = form.elements.namedItem(p.dataset.field);
      if (el instanceof HTMLElement) {
        el.setAttribute("aria-invalid", "true");
        el.setAttribute("aria-describedby", p.id);
      }
    }
  }

  form.addEventListener("input", (e) => {
    if (e.target instanceof HTMLInputElement) {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    }
  });
  form.addEventListener("change", (e) => {
    if (e.target instanceof HTMLSelectElement) {
      clearTimeout(timer);
      refresh();
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(timer);
    refresh();
  });

  // ---- Cells: focus and keyboard ----

  const editable = "td[data-field]";

  // setup makes the editable cells of a new table reachable: one tab
  // stop for the table, the arrow keys for the rest.
  function setup(root) {
    const cells = root.querySelectorAll(editable);
    cells.forEach((td, i) => {
      td.tabIndex = i === 0 ? 0 : -1;
      td.title = text("edit");
    });
    const all = root.querySelector("#sel-all");
    if (all && root.querySelector('input[name="sel"]')) {
      all.hidden = false;
    }
    countSelected();
  }

  // moveTo makes td the table's tab stop and focuses it.
  function moveTo(td) {
    if (!td) {
      return;
    }
    for (const c of document.querySelectorAll(editable + '[tabindex="0"]')) {
      c.tabIndex = -1;
    }
    td.tabIndex = 0;
    td.focus();
  }

  // neighbour returns the editable cell next to td in a direction.
  function neighbour(td, key) {
    const row = td.parentElement;
    if (key === "ArrowLeft" || key === "ArrowRight") {
      const cells = Array.from(row.querySelectorAll(editable));
      const i = cells.indexOf(td) + (key === "ArrowRight" ? 1 : -1);
      return cells[i] || null;
    }
    let r = key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
    while (r) {
      const c = r.cells[td.cellIndex];
      if (c && c.matches(editable)) {
        return c;
      }
      r = key === "ArrowDown" ? r.nextElementSibling : r.previousElementSibling;
    }
    return null;
  }

  document.addEventListener("keydown", (e) => {
    const td = e.target;
    if (!(td instanceof HTMLTableCellElement) || !td.matches(editable) || td.classList.contains("editing")) {
      return;
    }
    if (e.key === "Enter" || e.key === "F2") {
      e.preventDefault();
      edit(td);
    } else if (["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(e.key)) {
      e.preventDefault();
      moveTo(neighbour(td, e.key));
    }
  });

  document.addEventListener("click", (e) => {
    const td = e.target instanceof Element ? e.target.closest(editable) : null;
    if (td && !td.classList.contains("editing")) {
      edit(td);
    }
  });

  // ---- Inline edit ----

  // columnName returns the heading of td's column, to label its input.
  function columnName(td) {
    const table = td.closest("table");
    const th = table && table.tHead && table.tHead.rows[0].cells[td.cellIndex];
    return th ? th.textContent.trim() : td.dataset.field;
  }

  // edit turns a cell into an input (a select for fields with choices).
  function edit(td) {
    const field = td.dataset.field;
    const st = { td, field, old: td.dataset.value || "", shown: td.textContent.trim(), done: false, saving: false, failed: null };
    const tpl = document.getElementById("opts-" + field);
    let input;
    if (tpl instanceof HTMLTemplateElement) {
      input = document.createElement("select");
      input.append(tpl.content.cloneNode(true));
      if (!Array.from(input.options).some((o) => o.value === st.old)) {
        input.prepend(new Option(st.shown || st.old, st.old)); // a room the user may not see
      }
      input.value = st.old;
    } else {
      input = document.createElement("input");
      input.type = "text";
      input.value = st.old;
      input.spellcheck = false;
      input.autocomplete = "off";
    }
    input.setAttribute("aria-label", columnName(td));
    st.input = input;
    td.classList.add("editing");
    td.removeAttribute("title");
    td.replaceChildren(input);
    input.focus();
    if (input instanceof HTMLInputElement) {
      input.select();
    }
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter") {
        e.preventDefault();
        save(st, false);
      } else if (e.key === "Escape") {
        e.preventDefault();
        close(st, st.old, st.shown, true);
      }
    });
    input.addEventListener("blur", () => {
      if (!st.done && !st.saving && st.input.value !== st.failed) {
        save(st, true);
      }
    });
  }

  // apiValue returns the API's JSON value of a field's input.
  function apiValue(field, v) {
    switch (field) {
      case "access_level":
      case "location_id":
        return Number(v);
      case "dhcp_reservation":
        return v === "true";
    }
    return v.trim();
  }

  // cellValue returns the stored value of a field as the cell keeps it.
  function cellValue(field, data) {
    const v = data[field];
    return v === null || v === undefined ? "" : String(v);
  }

  async function save(st, onBlur) {
    const v = st.input.value;
    if (v === st.old) {
      close(st, st.old, st.shown, !onBlur);
      return;
    }
    const row = st.td.closest("tr");
    st.saving = true;
    st.td.classList.add("saving");
    const body = {};
    body[st.field] = apiValue(st.field, v);
    try {
      const res = await window.ipdesk.api("PATCH", "/api/v1/addresses/" + row.dataset.id, body, { "If-Match": '"' + row.dataset.version + '"' });
      const data = res.data;
      row.dataset.version = String(data.version);
      const sel = row.querySelector('input[name="sel"]');
      if (sel) {
        sel.value = row.dataset.id + ":" + data.version;
      }
      const value = cellValue(st.field, data);
      let shown = value;
      if (st.input instanceof HTMLSelectElement) {
        const opt = Array.from(st.input.options).find((o) => o.value === value);
        shown = opt ? opt.textContent : value;
      }
      if (st.field === "status") {
        st.td.className = "status-" + value;
      }
      if (st.field === "location_id" && value === "0") {
        shown = "";
      }
      close(st, value, shown, !onBlur);
      say(text("saved"));
    } catch (err) {
      st.saving = false;
      st.td.classList.remove("saving");
      st.failed = v;
      let msg = err.message;
      if (err.status === 412) {
        msg = text("stale");
      } else if (!err.status) {
        msg = text("failed");
      }
      showError(st, row, msg);
      if (!onBlur) {
        st.input.focus();
      }
    }
  }

  // showError puts the message right beside the field, keeping what was
  // typed.
  function showError(st, row, msg) {
    const id = "ie-" + row.dataset.id + "-" + st.field;
    let span = document.getElementById(id);
    if (!span) {
      span = document.createElement("span");
      span.id = id;
      span.className = "field-error";
      span.setAttribute("role", "alert");
      st.td.append(span);
    }
    span.textContent = msg;
    st.input.setAttribute("aria-invalid", "true");
    st.input.setAttribute("aria-describedby", id);
  }

  // close ends the edit, showing value as text.
  function close(st, value, shown, focus) {
    st.done = true;
    st.td.classList.remove("editing", "saving");
    st.td.dataset.value = value;
    st.td.textContent = shown;
    st.td.title = text("edit");
    if (focus) {
      moveTo(st.td);
    }
  }

  // ---- Selection for the bulk change ----

  function countSelected() {
    const out = document.getElementById("bulk-count");
    if (!out) {
      return;
    }
    const n = document.querySelectorAll('input[name="sel"]:checked').length;
    out.textContent = n > 0 ? text("selected").replace("%d", String(n)) : "";
  }

  document.addEventListener("change", (e) => {
    const el = e.target;
    if (!(el instanceof HTMLInputElement)) {
      return;
    }
    if (el.id === "sel-all") {
      for (const box of document.querySelectorAll('input[name="sel"]')) {
        box.checked = el.checked;
      }
    }
    if (el.id === "sel-all" || el.name === "sel") {
      countSelected();
    }
  });

  setup(document);
})();
