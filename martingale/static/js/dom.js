// Building and updating DOM nodes: text content and attributes only, never HTML strings.
import { color, alpha } from "./theme.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, val] of Object.entries(attrs)) {
    if (val === null || val === undefined || val === false) continue;
    if (key === "class") el.className = val;
    else if (key === "text") el.textContent = val;
    else if (key === "dataset") Object.assign(el.dataset, val);
    else if (key.startsWith("on") && typeof val === "function") el.addEventListener(key.slice(2), val);
    else el.setAttribute(key, val === true ? "" : String(val));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace every child of el. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function $(selector, root = document) { return root.querySelector(selector); }
export function $$(selector, root = document) { return [...root.querySelectorAll(selector)]; }

/** Set text only when it changed (keeps screen readers and layout calm). */
export function setText(el, value) {
  if (el && el.textContent !== value) el.textContent = value;
}

/** Up/down classes plus the given base class. */
export function setTone(el, s) {
  el.classList.toggle("up", s > 0);
  el.classList.toggle("down", s < 0);
}

/** An asset's colour as a CSS custom property, only if it is a plain hex colour. */
export function assetColor(el, color) {
  if (/^#[0-9a-f]{3,8}$/i.test(color || "")) el.style.setProperty("--asset", color);
  return el;
}

const still = window.matchMedia("(prefers-reduced-motion: reduce)");

/** Flash el green (direction > 0) or red (< 0) for a moment: a price that just moved. */
export function flash(el, direction) {
  if (!direction || still.matches) return;
  const tone = color(direction > 0 ? "up" : "down");
  // a new flash replaces one still running, as the newest effect wins
  el.animate([{ backgroundColor: alpha(tone, 0.16), color: tone }, { backgroundColor: "transparent" }], { duration: 600, easing: "ease-out" });
}
