// A tiny element builder. Every string that reaches the page goes through
// textContent or setAttribute: alert texts and SSIDs come from the air and are
// attacker-controlled, so nothing here ever parses HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(node, attrs) {
  if (!attrs) return node;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") {
      node.textContent = String(value);
    } else if (key === "class") {
      node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (key === "data") {
      for (const [name, v] of Object.entries(value)) node.dataset[name] = String(v);
    } else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "style") {
      // The CSP forbids style attributes; use a class (or CSSOM in the caller).
      throw new Error("dom.js: style attributes are not allowed");
    } else if (key === "hidden" || key === "disabled" || key === "selected" || key === "checked") {
      node[key] = Boolean(value);
    } else if (key === "value") {
      node.value = String(value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** el("td", {class: "x", text: "y"}) or el("tr", null, el("td"), "text"). */
export function el(tag, attrs, ...children) {
  return append(apply(document.createElement(tag), attrs), children);
}

/** The same for SVG elements, which need their namespace. */
export function svg(tag, attrs, ...children) {
  return append(apply(document.createElementNS(SVG_NS, tag), attrs), children);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

/** Replace all children of `node` in one DOM operation. */
export function replaceChildren(node, ...children) {
  const frag = document.createDocumentFragment();
  append(frag, children);
  node.replaceChildren(frag);
  return node;
}

/** Set text only when it changed: cheaper for the timers that refresh many cells. */
export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** Show a server answer (or a local error) next to the form that caused it. */
export function showResult(node, text, isError) {
  if (!node) return;
  node.textContent = text;
  node.classList.toggle("error", Boolean(isError));
  node.classList.toggle("ok", !isError && Boolean(text));
}

/** A clone of <template id=...> content; forms that only admins may see live there,
 * so they are absent from the document for everybody else. */
export function fromTemplate(id) {
  const template = document.getElementById(id);
  return template.content.cloneNode(true);
}

/** Run `fn` at most once per animation frame, with every call's argument batched. */
export function frameBatcher(fn) {
  let queued = [];
  let frame = 0;
  let timer = 0;
  const run = () => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    frame = timer = 0;
    const batch = queued;
    queued = [];
    fn(batch);
  };
  const push = (item) => {
    queued.push(item);
    if (!frame && !timer) {
      // A hidden tab gets no frames, and a tab hidden after its frame was asked for
      // gets that frame only once it is shown again: the timer runs the batch
      // meanwhile, so the queue never grows while the tab is in the background.
      timer = setTimeout(run, 1000);
      if (!document.hidden) frame = requestAnimationFrame(run);
    }
  };
  /** Run what is queued now rather than at the next frame. */
  push.flush = () => {
    if (queued.length) run();
  };
  return push;
}

/** `fn` once calls stop for `ms`; `.cancel()` drops a pending call. */
export function debounce(fn, ms) {
  let timer = 0;
  const later = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  later.cancel = () => clearTimeout(timer);
  return later;
}
