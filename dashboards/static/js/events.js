// The live event stream: GET /api/v1/events read with fetch() (EventSource cannot send the bearer header).
import { token } from "./api.js";

const listeners = new Set();
let controller = null;
let lastId = null;
let stopped = true;

export const onEvent = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };

let live = false;
export const isLive = () => live;

function setLive(on) {
  live = on;
  const dot = document.getElementById("live-dot");
  if (dot) { dot.classList.toggle("on", on); dot.title = on ? "live updates connected" : "live updates reconnecting"; }
}

export function startEvents() {
  stopEvents();
  stopped = false;
  loop();
}

export function stopEvents() {
  stopped = true;
  if (controller) controller.abort();
  controller = null;
  setLive(false);
}

async function loop() {
  let delay = 1000;
  while (!stopped && token.get()) {
    controller = new AbortController();
    try {
      const headers = { Authorization: `Bearer ${token.get()}`, Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const res = await fetch("/api/v1/events", { headers, signal: controller.signal });
      if (res.status === 401 || res.status === 403) return;
      if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
      delay = 1000;
      await read(res.body.getReader());
    } catch (err) {
      if (err.name === "AbortError") return;
    }
    setLive(false);
    if (stopped) return;
    await new Promise((r) => setTimeout(r, delay + Math.random() * 500));
    delay = Math.min(delay * 2, 15000);
  }
}

async function read(reader) {
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let idx;
    while ((idx = buf.search(/\r?\n\r?\n/)) >= 0) {
      // Live from the first block (the server's `retry:`), sent once it knows where the stream starts:
      // from then on nothing committed is missed. The response's headers alone come before that.
      if (!live) setLive(true);
      const block = buf.slice(0, idx);
      buf = buf.slice(idx).replace(/^\r?\n\r?\n/, "");
      dispatch(block);
    }
  }
}

function dispatch(block) {
  let kind = "message"; const data = []; let id = null;
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "event") kind = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  if (id) lastId = id;
  if (!data.length) return;
  let payload;
  try { payload = JSON.parse(data.join("\n")); } catch { payload = { raw: data.join("\n") }; }
  for (const fn of listeners) {
    try { fn(kind, payload); } catch (err) { console.error("event listener failed", err); }
  }
}
