// Small pieces every view uses: toasts (grouped), errors, segmented buttons, selects, and a
// modal form dialog.

import { ApiError, el } from "./api.js";

export const $ = (id) => document.getElementById(id);

export const pnlClass = (v) => (v > 0 ? "pos" : v < 0 ? "neg" : "");

// ---- toasts -----------------------------------------------------------------------------------

const MAX_TOASTS = 3;
const groups = new Map();

/// A toast. Toasts of the same `group` within a few seconds become one that counts them
/// ("5 alerts fired"), and at most three show at once, so a burst never covers the page.
export function toast(text, kind = "info", { group, many } = {}) {
  const host = $("toasts");
  if (group && groups.has(group)) {
    const g = groups.get(group);
    g.count += 1;
    g.node.firstChild.textContent = many ? many(g.count) : `${text} (+${g.count - 1} more)`;
    clearTimeout(g.timer);
    g.timer = setTimeout(() => dismiss(g.node, group), 6000);
    return;
  }
  const t = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", {}, text),
    el("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", onclick: () => dismiss(t, group) }, "×"));
  host.append(t);
  while (host.children.length > MAX_TOASTS) host.firstChild.remove();
  const timer = setTimeout(() => dismiss(t, group), 6000);
  if (group) groups.set(group, { node: t, count: 1, timer });
}

function dismiss(node, group) {
  if (group && groups.get(group)?.node === node) groups.delete(group);
  node.classList.add("out");
  setTimeout(() => node.remove(), 500);
}

export function showError(host, err) {
  host.replaceChildren(el("p", { class: "error" }, err instanceof ApiError ? err.message : String(err)));
}

// ---- controls ----------------------------------------------------------------------------------

export function segmented(options, current, onPick, label) {
  const box = el("div", { class: "segmented", role: "group", "aria-label": label });
  for (const [value, text] of options) {
    box.append(
      el("button", {
        type: "button",
        class: value === current ? "on" : "",
        "aria-pressed": String(value === current),
        dataset: { value },
        onclick: () => onPick(value),
      }, text),
    );
  }
  return box;
}

export function select(id, options, current, onChange, label) {
  const s = el("select", { id, name: id, "aria-label": label, onchange: (e) => onChange(e.target.value) });
  for (const [value, text] of options) s.append(el("option", { value }, text));
  s.value = current;
  return el("label", { class: "field" }, el("span", {}, label), s);
}

export function input(id, label, attrs = {}) {
  return el("label", { class: `field${attrs.wide ? " wide" : ""}` }, el("span", {}, label),
    el("input", { id, name: id, ...attrs, wide: undefined }));
}

// ---- modal form --------------------------------------------------------------------------------

/// Opens a modal form. `onSubmit(form)` runs on submit; the dialog closes when it resolves to
/// anything but `false`, and shows its error (and stays open) when it throws. Escape and Cancel
/// close it without a trace. Resolves with what `onSubmit` returned, or `null` when cancelled.
export function modal({ title, id, body, submit = "Save", wide = false, onSubmit }) {
  return new Promise((resolve) => {
    const error = el("p", { class: "error", hidden: true, role: "alert" });
    const ok = el("button", { type: "submit", class: "primary", dataset: { action: "submit" } }, submit);
    const form = el("form", { method: "dialog", class: "form" },
      el("h2", {}, title),
      ...[body].flat(),
      error,
      el("div", { class: "row-between dialog-actions" },
        el("button", { type: "button", class: "ghost", dataset: { action: "cancel" }, onclick: () => close(null) }, "Cancel"),
        ok),
    );
    const d = el("dialog", { id, class: `modal${wide ? " wide" : ""}` }, form);
    let settled = false;
    const close = (value) => {
      if (settled) return;
      settled = true;
      d.close();
      d.remove();
      resolve(value);
    };
    d.addEventListener("cancel", (e) => {
      e.preventDefault();
      close(null);
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.hidden = true;
      ok.disabled = true;
      try {
        const out = await onSubmit(form);
        if (out !== false) close(out ?? true);
      } catch (err) {
        error.textContent = err instanceof ApiError ? err.message : String(err.message || err);
        error.hidden = false;
      } finally {
        ok.disabled = false;
      }
    });
    document.body.append(d);
    d.showModal();
    form.querySelector("input:not([type=hidden]), select, textarea")?.focus();
  });
}

/// Asks a yes/no question in a modal (no `confirm()`, which blocks the page and tests).
export function ask(title, text, yes = "Delete") {
  return modal({ title, body: el("p", {}, text), submit: yes, onSubmit: async () => true });
}

/// Today as `YYYY-MM-DD` (UTC, as the API reads dates).
export function today() {
  return new Date().toISOString().slice(0, 10);
}
