// ipdesk: the address plan pages. The tree's expand and collapse buttons,
// and the address grid: arrow keys between cells, a tooltip with the
// host, and a click on a free address that fills in the claim form. The
// pages work without this; texts come from the page, data is set with
// textContent only.
"use strict";

(() => {
  const tools = document.querySelector(".tree-tools");
  if (tools) {
    tools.hidden = false;
    tools.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-tree]");
      if (!b) return;
      const open = b.getAttribute("data-tree") === "open";
      document.querySelectorAll("#tree details").forEach((d) => { d.open = open; });
    });
  }

  const grid = document.querySelector("table.addr-grid");
  if (!grid || !grid.tBodies.length) return;
  const rows = Array.from(grid.tBodies[0].rows, (tr) => Array.from(tr.querySelectorAll(".cell")));
  const where = new Map();
  rows.forEach((row, i) => row.forEach((c, j) => where.set(c, [i, j])));
  const address = document.getElementById("claim-address");

  // One cell is in the tab order; the arrow keys move between them.
  let current = null;
  for (const row of rows) for (const c of row) c.tabIndex = -1;
  const selected = address && address.value && grid.querySelector(`a.cell[data-claim="${CSS.escape(address.value)}"]`);
  if (selected) selected.classList.add("selected");
  setCurrent(selected || grid.querySelector("a.cell") || (rows[0] && rows[0][0]));

  function setCurrent(c) {
    if (!c) return;
    if (current) current.tabIndex = -1;
    c.tabIndex = 0;
    current = c;
  }

  grid.addEventListener("keydown", (e) => {
    const c = e.target.closest(".cell");
    if (!c || !where.has(c)) return;
    let [i, j] = where.get(c);
    switch (e.key) {
      case "ArrowRight":
        if (j + 1 < rows[i].length) j++; else if (i + 1 < rows.length) { i++; j = 0; }
        break;
      case "ArrowLeft":
        if (j > 0) j--; else if (i > 0) { i--; j = rows[i].length - 1; }
        break;
      case "ArrowDown": if (i + 1 < rows.length) i++; break;
      case "ArrowUp": if (i > 0) i--; break;
      case "Home": j = 0; if (e.ctrlKey) i = 0; break;
      case "End": if (e.ctrlKey) i = rows.length - 1; j = rows[i].length - 1; break;
      case "PageDown": i = rows.length - 1; break;
      case "PageUp": i = 0; break;
      case "Escape": hideTip(); return;
      case "Enter":
        // Handled here, not by the link's click: the Enter must not go on
        // to the form field that gets the focus and submit it.
        if (c.matches("a.cell[data-claim]") && address) {
          e.preventDefault();
          claim(c);
        }
        return;
      default: return;
    }
    e.preventDefault();
    const next = rows[i][Math.min(j, rows[i].length - 1)];
    setCurrent(next);
    next.focus();
  });

  // The tooltip shows the cell's address, state and host.
  const tip = document.createElement("div");
  tip.className = "plan-tip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  document.body.appendChild(tip);
  let tipFor = null;

  function showTip(c) {
    if (tipFor === c) return;
    hideTip();
    const title = c.getAttribute("title") || "";
    c.setAttribute("data-title", title);
    c.removeAttribute("title"); // the tooltip replaces the browser's
    const parts = title.split(" · ");
    const lines = [parts.slice(0, 2).join(" — ")];
    for (const k of ["data-host", "data-mac", "data-owner"]) {
      const v = c.getAttribute(k);
      if (v) lines.push(v);
    }
    tip.replaceChildren(...lines.map((text) => {
      const s = document.createElement("span");
      s.textContent = text;
      return s;
    }));
    const r = c.getBoundingClientRect();
    tip.style.left = `${Math.max(4, r.left + window.scrollX)}px`;
    tip.style.top = `${r.bottom + window.scrollY + 4}px`;
    tip.hidden = false;
    tipFor = c;
  }

  function hideTip() {
    if (!tipFor) return;
    tipFor.setAttribute("title", tipFor.getAttribute("data-title") || "");
    tipFor = null;
    tip.hidden = true;
  }

  grid.addEventListener("mouseover", (e) => {
    const c = e.target.closest(".cell");
    if (c) showTip(c);
  });
  grid.addEventListener("mouseleave", hideTip);
  grid.addEventListener("focusin", (e) => {
    const c = e.target.closest(".cell");
    if (!c) return;
    setCurrent(c);
    showTip(c);
  });
  grid.addEventListener("focusout", hideTip);

  // A free cell fills in the claim form instead of loading the page anew.
  function claim(a) {
    grid.querySelectorAll(".cell.selected").forEach((x) => x.classList.remove("selected"));
    a.classList.add("selected");
    address.value = a.getAttribute("data-claim");
    const host = document.getElementById("claim-hostname");
    (host || address).focus();
  }
  grid.addEventListener("click", (e) => {
    const a = e.target.closest("a.cell[data-claim]");
    if (!a || !address) return;
    e.preventDefault();
    claim(a);
  });
})();
