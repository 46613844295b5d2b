// ipdesk: small helpers of the administration pages. The pages work
// without them.
"use strict";

(() => {
  // The grant form shows only the fields of the chosen object type, and
  // offers the override right only for locations.
  const form = document.getElementById("grant-form");
  if (form) {
    const type = form.querySelector("#gr-type");
    const right = form.querySelector("#gr-right");
    const sync = () => {
      const t = type.value;
      for (const el of form.querySelectorAll("[data-for-types]")) {
        const show = el.getAttribute("data-for-types").split(" ").includes(t);
        if (el instanceof HTMLOptionElement) {
          el.disabled = !show;
          el.hidden = !show;
          if (!show && right.value === el.value) {
            right.value = "view";
          }
        } else {
          el.hidden = !show;
        }
      }
    };
    type.addEventListener("change", sync);
    sync();
  }

  // A button with data-copy copies the value of the input it names.
  for (const b of document.querySelectorAll("button[data-copy]")) {
    const input = document.getElementById(b.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) {
      continue;
    }
    b.hidden = false;
    b.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(input.value);
        b.textContent = "✓";
      } catch (e) {
        input.select();
      }
    });
  }
})();
