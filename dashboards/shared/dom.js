// The few DOM helpers every page uses.

export const $ = (selector, root = document) => root.querySelector(selector);

// el("button", { type: "button", onclick: f, disabled: false }, "text", child...): attributes whose value is
// false/null/undefined are left out, `on*` are listeners, children may be nodes, text or (nested) arrays.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  return node;
}

// Fill `node` from `build()` only when `key` differs from what it shows now: an unchanged part of a page is not
// touched, so focus, caret, selection and an IME composition inside it survive every refresh.
export function renderPart(node, key, build) {
  if (node.dataset.key === key) return false;
  node.dataset.key = key;
  node.replaceChildren(...[build()].flat().filter((child) => child !== "" && child !== null && child !== undefined));
  return true;
}
