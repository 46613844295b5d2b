// ipdesk: small helpers shared by every page. Pages work without them;
// they only make the work faster.
"use strict";

// A select with data-autosubmit submits its form when changed.
document.addEventListener("change", (e) => {
  const el = e.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) {
    el.form.requestSubmit();
  }
});

// A button with data-confirm asks before its form is sent.
document.addEventListener("submit", (e) => {
  const b = e.submitter;
  const msg = (b && b.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    e.preventDefault();
  }
});

// ipdesk.api sends a JSON request to the API with the browser's session
// and returns the decoded answer, or throws an Error whose field and
// message come from the API's error.
window.ipdesk = {
  // time formats a Date as HH:MM (with seconds if asked) in the server's
  // time zone, as the pages show times, in the page's language.
  time(d, seconds) {
    const opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (seconds) {
      opts.second = "2-digit";
    }
    const tz = document.body.dataset.tz;
    if (tz) {
      opts.timeZone = tz;
    }
    try {
      return d.toLocaleTimeString(document.documentElement.lang || undefined, opts);
    } catch (e) {
      delete opts.timeZone;
      return d.toLocaleTimeString(document.documentElement.lang || undefined, opts);
    }
  },
  async api(method, url, body, headers) {
    const h = Object.assign({ "Accept": "application/json" }, headers || {});
    const init = { method, headers: h, credentials: "same-origin" };
    if (body !== undefined) {
      h["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(url, init);
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || res.statusText);
      err.field = data && data.error && data.error.field;
      err.status = res.status;
      throw err;
    }
    return { data, etag: res.headers.get("ETag") };
  },
};
