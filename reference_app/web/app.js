// The reference agent's web page: bootstraps from REST, follows /event, and derives the readouts
// exactly as the Python client store does (reference_app/client/store.py and readouts.py), so
// the store, terminal and web surfaces can be held against each other character for character.
//
// Safety rule: every string that comes from the server reaches the DOM through textContent or
// createTextNode, never as markup. The server's CSP requires Trusted Types with no policy, so an
// innerHTML assignment of a string would throw rather than parse.

const WINDOW = 100; // messages held per session, as ClientStore(window=100)
const UNKNOWN_COST = "unknown";
const UNKNOWN_PERCENT = "\u2014"; // em dash: a ratio nobody can compute

const params = new URLSearchParams(location.search);
const clientFix = params.get("client_fix") === "1";

// ---- exact decimals ----------------------------------------------------------------------
// Costs are summed exactly (BigInt scaled by a power of ten), as the store sums Decimal(str(x)):
// the order of updates must never move a displayed cent.

function decimalOf(value) {
  // String(number) is the shortest round-tripping decimal, the same digits as Python's repr.
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(String(value));
  if (!match) return { n: 0n, s: 0 };
  const fraction = match[3] || "";
  let n = BigInt(match[2] + fraction);
  let s = fraction.length - Number(match[4] || 0);
  if (s < 0) {
    n *= 10n ** BigInt(-s);
    s = 0;
  }
  return { n: match[1] ? -n : n, s };
}

const ZERO = { n: 0n, s: 0 };

function align(a, b) {
  const s = Math.max(a.s, b.s);
  return [a.n * 10n ** BigInt(s - a.s), b.n * 10n ** BigInt(s - b.s), s];
}

function decimalAdd(a, b) {
  const [x, y, s] = align(a, b);
  return { n: x + y, s };
}

function decimalMax(a, b) {
  const [x, y] = align(a, b);
  return x >= y ? a : b;
}

function decimalText(d) {
  const negative = d.n < 0n;
  let digits = (negative ? -d.n : d.n).toString();
  if (d.s > 0) {
    digits = digits.padStart(d.s + 1, "0");
    digits = `${digits.slice(0, -d.s)}.${digits.slice(-d.s)}`;
  }
  return (negative ? "-" : "") + digits;
}

// ---- formatting (readouts.py) --------------------------------------------------------------

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function formatTokens(tokens) {
  return tokens < 0 ? `-${groupThousands(String(-tokens))}` : groupThousands(String(tokens));
}

function formatPercent(tokens, limit) {
  if (!limit || limit < 0) return UNKNOWN_PERCENT;
  // Integer arithmetic so exact halves round up, as format_percent does.
  const numerator = BigInt(tokens) * 100n;
  const whole = numerator / BigInt(limit);
  const remainder = numerator % BigInt(limit);
  return `${remainder * 2n >= BigInt(limit) ? whole + 1n : whole}%`;
}

function roundHalfUp(magnitude, scale, places) {
  // `magnitude` x 10^-scale, rounded half up to `places` decimal places (returned x 10^places).
  if (scale <= places) return magnitude * 10n ** BigInt(places - scale);
  const unit = 10n ** BigInt(scale - places);
  const whole = magnitude / unit;
  return (magnitude % unit) * 2n >= unit ? whole + 1n : whole;
}

function formatCost(cost) {
  if (cost === null) return UNKNOWN_COST;
  // Round half up (away from zero on a tie) on the decimal digits, as Decimal.quantize does;
  // first to the nano-dollar (readouts.py's COST_PRECISION), so that binary noise in a summed
  // total (0.004999999999999999 for 0.005) cannot move a cent.
  const negative = cost.n < 0n;
  const magnitude = negative ? -cost.n : cost.n;
  const nanos = roundHalfUp(magnitude, cost.s, 9);
  const cents = roundHalfUp(nanos, 9, 2);
  const text = `${groupThousands((cents / 100n).toString())}.${(cents % 100n).toString().padStart(2, "0")}`;
  if (negative && cents > 0n) return `-$${text}`;
  return negative ? `$-${text}` : `$${text}`;
}

// ---- derivations (store.py) ----------------------------------------------------------------

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function totalTokens(info) {
  const tokens = (info && info.tokens) || {};
  const cache = tokens.cache || {};
  let total = 0;
  for (const value of [tokens.input, tokens.output, tokens.reasoning, cache.read, cache.write]) {
    if (isNumber(value)) total += Math.trunc(value);
  }
  return total;
}

function messageCost(info) {
  // A missing field counts as zero (`cost ?? 0`); null is an unpriced model's unknown spend.
  if (!("cost" in info)) return ZERO;
  return isNumber(info.cost) ? decimalOf(info.cost) : null;
}

function sessionCost(info) {
  if (!info || !("cost" in info)) return ZERO;
  return isNumber(info.cost) ? decimalOf(info.cost) : null;
}

function updatedAt(info) {
  const stamp = info && info.time && info.time.updated;
  return isNumber(stamp) ? stamp : 0;
}

function orderKey(info) {
  const created = info.time && info.time.created;
  return [isNumber(created) ? created : 0, String(info.id)];
}

function compareKeys(a, b) {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] === b[1]) return 0;
  return a[1] < b[1] ? -1 : 1;
}

// The last WINDOW messages of one session, oldest first. Aggregates are recomputed from the
// (at most WINDOW) entries, which gives what the store's incremental bookkeeping gives.
class MessageWindow {
  constructor() {
    this.entries = []; // [{key, info}] sorted by key
    this.parts = new Map(); // messageID -> Map(partID -> part)
    this.evicted = 0;
  }

  indexOf(id) {
    return this.entries.findIndex((entry) => entry.key[1] === id);
  }

  upsert(info) {
    const key = orderKey(info);
    const at = this.indexOf(key[1]);
    if (at >= 0 && compareKeys(this.entries[at].key, key) === 0) {
      this.entries[at] = { key, info };
      return true;
    }
    if (at >= 0) this.remove(key[1]);
    if (this.entries.length >= WINDOW && compareKeys(key, this.entries[0].key) < 0) {
      this.evicted += 1; // older than a full window: as good as evicted
      return false;
    }
    let index = this.entries.length;
    while (index > 0 && compareKeys(this.entries[index - 1].key, key) > 0) index -= 1;
    this.entries.splice(index, 0, { key, info });
    while (this.entries.length > WINDOW) {
      this.remove(this.entries[0].key[1]);
      this.evicted += 1;
    }
    return true;
  }

  remove(id) {
    this.parts.delete(id);
    const at = this.indexOf(id);
    if (at < 0) return false;
    this.entries.splice(at, 1);
    return true;
  }

  lastAssistant() {
    // The context readouts follow the last assistant message that has reported usage: a turn
    // just started has an empty one, which must not drop the sidebar to zero.
    for (let i = this.entries.length - 1; i >= 0; i -= 1) {
      const info = this.entries[i].info;
      if (info.role === "assistant" && totalTokens(info) > 0) return info;
    }
    return null;
  }

  costs() {
    let sum = ZERO;
    let unknown = 0;
    for (const { info } of this.entries) {
      if (info.role !== "assistant") continue;
      const cost = messageCost(info);
      if (cost === null) unknown += 1;
      else sum = decimalAdd(sum, cost);
    }
    return { sum, unknown };
  }

  partsOf(id) {
    let parts = this.parts.get(id);
    if (!parts) {
      parts = new Map();
      this.parts.set(id, parts);
    }
    return parts;
  }
}

const state = {
  sessions: new Map(), // id -> session info
  windows: new Map(), // sessionID -> MessageWindow
  statuses: new Map(), // sessionID -> status type
  errors: new Map(), // sessionID -> error
  contextLimits: new Map(), // model id -> context window
  openId: params.get("session"),
};

function windowOf(sessionId) {
  let window = state.windows.get(sessionId);
  if (!window) {
    window = new MessageWindow();
    state.windows.set(sessionId, window);
  }
  return window;
}

function contextLimit(last, info) {
  let modelId;
  let providerId;
  if (last) {
    modelId = last.modelID;
    providerId = last.providerID;
  } else if (info && info.model && typeof info.model === "object") {
    modelId = info.model.id;
    providerId = info.model.providerID;
  } else {
    return null;
  }
  for (const name of [modelId, `${providerId}/${modelId}`]) {
    if (typeof name === "string" && state.contextLimits.has(name)) {
      return state.contextLimits.get(name);
    }
  }
  return null;
}

function readouts(sessionId) {
  const info = state.sessions.get(sessionId);
  const window = state.windows.get(sessionId);
  if (!info && !window) return null;
  const last = window ? window.lastAssistant() : null;
  const tokens = last ? totalTokens(last) : 0;
  const cached = sessionCost(info);
  let sidebarCost = cached;
  if (clientFix && window) {
    const { sum, unknown } = window.costs();
    // The store goes through float(max(...)); Number(text) then String() is that same round trip.
    sidebarCost = cached === null || unknown ? null : decimalOf(Number(decimalText(decimalMax(cached, sum))));
  }
  const tokensText = formatTokens(tokens);
  const sessionText = formatCost(cached);
  return {
    "sidebar.tokens": tokensText,
    "sidebar.percent": formatPercent(tokens, contextLimit(last, info)),
    "sidebar.cost": formatCost(sidebarCost),
    "sessions.cost": sessionText,
    "footer.tokens": tokensText,
    "footer.cost": sessionText,
    limit: contextLimit(last, info),
    tokens,
    model: last ? String(last.modelID ?? "") : "",
  };
}

// ---- events -------------------------------------------------------------------------------

const handlers = {
  "session.created": upsertSession,
  "session.updated": upsertSession,
  "session.deleted": (p) => {
    const id = String(p.sessionID ?? (p.info && p.info.id));
    state.sessions.delete(id);
    state.windows.delete(id);
    state.statuses.delete(id);
    state.errors.delete(id);
    return id;
  },
  "message.updated": (p) => {
    const sessionId = String(p.info.sessionID ?? p.sessionID);
    windowOf(sessionId).upsert(p.info);
    return sessionId;
  },
  "message.removed": (p) => {
    const window = state.windows.get(String(p.sessionID));
    if (window) window.remove(String(p.messageID));
    return String(p.sessionID);
  },
  "message.part.updated": (p) => {
    const part = p.part;
    const sessionId = String(part.sessionID ?? p.sessionID);
    // A part may arrive before its message; it is kept either way.
    windowOf(sessionId).partsOf(String(part.messageID)).set(String(part.id), part);
    return sessionId;
  },
  "message.part.removed": (p) => {
    const window = state.windows.get(String(p.sessionID));
    const parts = window && window.parts.get(String(p.messageID));
    if (parts) parts.delete(String(p.partID));
    return String(p.sessionID);
  },
  "message.part.delta": (p) => {
    const window = state.windows.get(String(p.sessionID));
    const parts = window && window.parts.get(String(p.messageID));
    const part = parts && parts.get(String(p.partID));
    const field = String(p.field);
    if (part && typeof (part[field] ?? "") === "string") {
      part[field] = (part[field] ?? "") + String(p.delta);
    }
    return String(p.sessionID);
  },
  "session.status": (p) => {
    state.statuses.set(String(p.sessionID), String((p.status && p.status.type) || ""));
    return String(p.sessionID);
  },
  "session.idle": (p) => {
    state.statuses.set(String(p.sessionID), "idle");
    return String(p.sessionID);
  },
  "session.error": (p) => {
    if (p.sessionID != null) state.errors.set(String(p.sessionID), p.error);
    return p.sessionID == null ? null : String(p.sessionID);
  },
};

function upsertSession(p) {
  const info = p.info;
  const id = String(info.id ?? p.sessionID);
  const cached = state.sessions.get(id);
  // Live events arrive in order, so only a snapshot read later can be newer than one.
  if (!(cached && updatedAt(cached) > updatedAt(info))) state.sessions.set(id, info);
  return id;
}

function applyEvent(event) {
  const handler = handlers[event.type];
  if (!handler) return;
  handler(event.properties || {});
}

// ---- rendering ----------------------------------------------------------------------------

const el = (id) => document.getElementById(id);

function setText(node, text) {
  // Writing only on change keeps the DOM (and anything observing it) quiet when nothing moved.
  if (node.textContent !== text) node.textContent = text;
}

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function placeChildren(container, nodes) {
  // Reorder only what is out of place: moving a node is a DOM mutation like any other.
  nodes.forEach((node, index) => {
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] || null);
  });
  while (container.children.length > nodes.length) container.lastElementChild.remove();
}

const READOUT_IDS = ["sidebar.tokens", "sidebar.percent", "sidebar.cost", "footer.tokens", "footer.cost"];

function renderReadouts() {
  const shown = state.openId ? readouts(state.openId) : null;
  for (const id of READOUT_IDS) setText(el(id), shown ? shown[id] : "");
  const percent = shown && shown.limit ? Math.min(100, (shown.tokens * 100) / shown.limit) : 0;
  const fill = el("meter-fill");
  const width = `${percent.toFixed(1)}%`;
  if (fill.style.width !== width) fill.style.width = width;
  setText(el("footer-model"), shown ? shown.model : "");
  const info = state.openId ? state.sessions.get(state.openId) : null;
  setText(el("session-title"), info ? String(info.title ?? "") : "");
  const status = state.openId ? state.statuses.get(state.openId) || "" : "";
  setText(el("session-status"), status === "busy" ? "working" : "");
  el("session-status").classList.toggle("busy", status === "busy");
}

const sessionItems = new Map(); // sessionID -> {item, title, cost}

function sessionItem(id) {
  let entry = sessionItems.get(id);
  if (!entry) {
    const item = make("li", "session-item");
    item.dataset.sessionId = id;
    item.tabIndex = 0;
    const title = make("span", "session-item-title");
    const cost = make("span", "session-item-cost readout");
    item.append(title, cost);
    item.addEventListener("click", () => openSession(id));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter") openSession(id);
    });
    entry = { item, title, cost };
    sessionItems.set(id, entry);
  }
  return entry;
}

function renderSessions() {
  const ordered = [...state.sessions.values()].sort((a, b) => {
    const byTime = updatedAt(b) - updatedAt(a);
    if (byTime) return byTime;
    return String(b.id) < String(a.id) ? -1 : String(b.id) > String(a.id) ? 1 : 0;
  });
  const nodes = [];
  for (const info of ordered) {
    const id = String(info.id);
    const { item, title, cost } = sessionItem(id);
    setText(title, String(info.title ?? ""));
    setText(cost, formatCost(sessionCost(info)));
    const open = id === state.openId;
    item.classList.toggle("open", open);
    // Only the open session's entry carries the readout id; the others are plain entries.
    if (open && cost.id !== "sessions.cost") cost.id = "sessions.cost";
    if (!open && cost.id) cost.removeAttribute("id");
    nodes.push(item);
  }
  for (const id of [...sessionItems.keys()]) {
    if (!state.sessions.has(id)) sessionItems.delete(id);
  }
  placeChildren(el("session-list"), nodes);
}

const messageNodes = new Map(); // messageID -> {node, body, parts: Map(partID -> node)}

function partText(part) {
  return typeof part.text === "string" ? part.text : "";
}

function toolSummary(part) {
  const status = (part.state && part.state.status) || "pending";
  const input = part.state && part.state.input !== undefined ? JSON.stringify(part.state.input) : "";
  return { status, input, output: part.state && typeof part.state.output === "string" ? part.state.output : "" };
}

function renderPart(holder, part) {
  let node = holder.parts.get(String(part.id));
  if (part.type === "text" || part.type === "reasoning") {
    if (!node) node = make("div", `part part-${part.type}`);
    setText(node, partText(part));
  } else if (part.type === "tool") {
    if (!node) {
      node = make("div", "part part-tool");
      node.append(make("span", "tool-name"), make("span", "tool-status"), make("code", "tool-input"),
        make("pre", "tool-output"));
    }
    const { status, input, output } = toolSummary(part);
    setText(node.children[0], String(part.tool ?? "tool"));
    setText(node.children[1], status);
    node.children[1].className = `tool-status status-${status.replace(/[^a-z]/g, "")}`;
    setText(node.children[2], input);
    setText(node.children[3], output);
    node.children[3].hidden = !output;
  } else {
    return null; // step-start, step-finish and unknown kinds carry no text a reader needs
  }
  holder.parts.set(String(part.id), node);
  return node;
}

function renderMessage(info, parts) {
  const id = String(info.id);
  let holder = messageNodes.get(id);
  if (!holder) {
    const node = make("article", "message");
    const header = make("header", "message-header");
    header.append(make("span", "message-role"), make("span", "message-model"));
    const body = make("div", "message-body");
    const error = make("div", "message-error");
    node.append(header, body, error);
    holder = { node, header, body, error, parts: new Map() };
    messageNodes.set(id, holder);
  }
  const assistant = info.role === "assistant";
  holder.node.className = `message ${assistant ? "assistant" : "user"}`;
  setText(holder.header.children[0], assistant ? "assistant" : "you");
  setText(holder.header.children[1], assistant ? String(info.modelID ?? "") : "");
  const nodes = [];
  for (const part of parts.values()) {
    const node = renderPart(holder, part);
    if (node) nodes.push(node);
  }
  placeChildren(holder.body, nodes);
  const error = info.error ? String((info.error.data && info.error.data.message) || info.error.name || "error") : "";
  setText(holder.error, error);
  holder.error.hidden = !error;
  return holder.node;
}

function renderTranscript() {
  const transcript = el("transcript");
  const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
  const window = state.openId ? state.windows.get(state.openId) : null;
  const nodes = [];
  const keep = new Set();
  if (window) {
    for (const { info } of window.entries) {
      keep.add(String(info.id));
      nodes.push(renderMessage(info, window.parts.get(String(info.id)) || new Map()));
    }
  }
  for (const id of [...messageNodes.keys()]) if (!keep.has(id)) messageNodes.delete(id);
  placeChildren(transcript, nodes);
  if (nearBottom) transcript.scrollTop = transcript.scrollHeight;
}

let frame = null;

function scheduleTranscript() {
  // The transcript (streamed text) is drawn once per frame; a timer backs the frame up in case
  // the tab is hidden and frames stop.
  if (frame) return;
  const run = () => {
    cancelAnimationFrame(frame.raf);
    clearTimeout(frame.timer);
    frame = null;
    renderTranscript();
  };
  frame = { raf: requestAnimationFrame(run), timer: setTimeout(run, 100) };
}

function render() {
  // Readouts are written as soon as the data behind them changes, not on the next frame.
  renderReadouts();
  renderSessions();
  scheduleTranscript();
}

function setConnection(kind) {
  el("app").dataset.connection = kind;
  setText(el("connection-text"), kind);
}

// ---- REST bootstrap and the event stream --------------------------------------------------

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
  return response.json();
}

async function loadContextLimits() {
  // Query parameter `context=model:limit,...` wins (for servers without /config/models).
  const given = params.get("context");
  if (given) {
    for (const pair of given.split(",")) {
      const at = pair.lastIndexOf(":");
      if (at > 0) state.contextLimits.set(pair.slice(0, at), Number(pair.slice(at + 1)));
    }
    return;
  }
  try {
    for (const model of await getJSON("/config/models")) {
      const limit = model && model.limit && model.limit.context;
      if (typeof model.id === "string" && isNumber(limit)) state.contextLimits.set(model.id, limit);
    }
  } catch {
    // No endpoint: percent shows the em dash, as the store does for an unknown limit.
  }
}

let buffered = null; // events received while a REST snapshot is in flight
let generation = 0;
let limitsLoaded = null;

async function resync() {
  // Replace state from REST; events that arrive meanwhile are held and applied afterwards, in
  // order, so the snapshot never overwrites something newer.
  const mine = ++generation;
  buffered = buffered || [];
  setConnection("syncing");
  try {
    limitsLoaded = limitsLoaded || loadContextLimits();
    await limitsLoaded;
    const sessions = await getJSON("/session");
    let openId = state.openId;
    if (!openId && sessions.length) {
      const newest = [...sessions].sort((a, b) => compareKeys(orderKey(b), orderKey(a)))[0];
      openId = String(newest.id);
    }
    let open = null;
    let messages = [];
    let statuses = {};
    if (openId) {
      [open, messages, statuses] = await Promise.all([
        getJSON(`/session/${encodeURIComponent(openId)}`).catch(() => null),
        getJSON(`/session/${encodeURIComponent(openId)}/message?limit=${WINDOW}`).catch(() => []),
        getJSON("/session/status").catch(() => ({})),
      ]);
    }
    if (mine !== generation) return;
    state.sessions = new Map(sessions.map((info) => [String(info.id), info]));
    if (open && !(state.sessions.has(openId) && updatedAt(state.sessions.get(openId)) > updatedAt(open))) {
      state.sessions.set(openId, open);
    }
    state.windows = new Map();
    state.statuses = new Map(Object.entries(statuses || {}).map(([id, s]) => [id, String((s && s.type) || "")]));
    state.errors = new Map();
    if (openId && (open || messages.length)) {
      const window = windowOf(openId);
      for (const entry of messages) {
        const info = entry.info;
        window.upsert(info);
        const parts = window.partsOf(String(info.id));
        for (const part of entry.parts || []) parts.set(String(part.id), part);
      }
    }
    state.openId = openId;
    const held = buffered;
    buffered = null;
    for (const event of held) applyEvent(event);
    render();
    setConnection("live");
  } catch (error) {
    if (mine !== generation) return;
    buffered = null;
    setConnection("offline");
    reconnectSoon();
    console.warn("resync failed:", error);
  }
}

let source = null;
let backoff = 250;
let retry = null;

function connect() {
  if (source) source.close();
  clearTimeout(retry);
  setConnection("connecting");
  source = new EventSource("/event");
  source.addEventListener("message", (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (event.type === "server.connected" || event.type === "server.resync") {
      // A (re)connected stream may have missed anything: reload the snapshot, replace state.
      backoff = 250;
      resync();
      return;
    }
    if (buffered) {
      buffered.push(event);
      return;
    }
    applyEvent(event);
    render();
  });
  source.addEventListener("error", () => {
    setConnection("offline");
    reconnectSoon();
  });
}

function reconnectSoon() {
  if (source) source.close();
  source = null;
  clearTimeout(retry);
  retry = setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, 5000);
}

function openSession(id) {
  if (id === state.openId) return;
  state.openId = id;
  const url = new URL(location.href);
  url.searchParams.set("session", id);
  history.replaceState(null, "", url);
  render();
  resync();
}

window.addEventListener("online", () => connect());
el("client-fix-note").hidden = !clientFix;
connect();
