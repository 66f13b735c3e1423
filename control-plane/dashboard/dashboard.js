// @ts-check
// The control plane's web dashboard: a client of the REST API and nothing else (every call goes through
// api() below with the token the user gives; the page itself holds no data). Data is rendered with
// textContent only, never as HTML. The token lives in sessionStorage (gone with the tab).

// Each refresh costs 8 requests (10 with a camera selected) against the REST rate limit (600 per minute by default).
const REFRESH_MS = 10000;
const TOKEN_KEY = 'edgefleet.token';
const MAX_CELL = 70; // longer text is cut, in full in the cell's tooltip

/**
 * @typedef {import('./api-types').ApiErrorBody} ApiErrorBody
 * @typedef {import('./api-types').Assignment} Assignment
 * @typedef {import('./api-types').AssignmentHistoryEntry} AssignmentHistoryEntry
 * @typedef {import('./api-types').AuditEntry} AuditEntry
 * @typedef {import('./api-types').Camera} Camera
 * @typedef {import('./api-types').Detection} Detection
 * @typedef {import('./api-types').Device} Device
 * @typedef {import('./api-types').Health} Health
 * @typedef {import('./api-types').IngestStats} IngestStats
 * @typedef {import('./api-types').Model} Model
 * @typedef {import('./api-types').ModelRef} ModelRef
 * @typedef {import('./api-types').ModelStatus} ModelStatus
 * @typedef {{ deviceId: string, cameraId: string }} Selection
 * @typedef {Node | string | number | null | undefined} Cell
 */

/** An element of index.html, which has every id this script names. */
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const $input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ ($(id));
const $select = (/** @type {string} */ id) => /** @type {HTMLSelectElement} */ ($(id));
const enc = encodeURIComponent;
/** @type {Selection | null} */
let selected = null;
/** @type {Model[]} */
let models = [];

class ApiError extends Error {
  /**
   * @param {number} status
   * @param {ApiErrorBody | null} body
   */
  constructor(status, body) {
    const e = /** @type {NonNullable<ApiErrorBody['error']>} */ (body?.error ? body.error : {});
    const fields =
      Array.isArray(e.fields) && e.fields.length
        ? ` (${e.fields.map((f) => `${f.field}: ${f.message}`).join('; ')})`
        : '';
    super(`${e.code ?? `HTTP ${status}`}: ${e.message ?? 'request failed'}${fields}`);
    this.status = status;
  }
}

/**
 * One REST call with the user's token.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>} the parsed JSON answer, whose shape each caller declares (api-types.d.ts)
 */
async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/**
 * @param {string} text
 * @param {string} [kind]
 */
function say(text, kind = 'error') {
  const m = $('message');
  m.textContent = text;
  m.className = text ? kind : '';
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {unknown} [text]
 * @param {string} [cls]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

/**
 * @param {string} text
 * @param {string} cls
 */
function pill(text, cls) {
  return el('span', text, `pill ${cls}`);
}

/**
 * Fills a table: header names, then one row per item from cells(item) (strings or elements).
 * @template T
 * @param {HTMLElement} table
 * @param {string[]} headers
 * @param {readonly T[]} items
 * @param {(item: T) => Cell[]} cells
 * @param {(item: T) => void} [onSelect]
 * @param {(item: T) => boolean} [isSelected]
 */
function fill(table, headers, items, cells, onSelect, isSelected) {
  table.replaceChildren();
  const head = el('tr');
  for (const h of headers) head.append(el('th', h));
  table.append(head);
  if (items.length === 0) {
    const row = el('tr');
    const td = el('td', 'none yet', 'muted');
    td.colSpan = headers.length;
    row.append(td);
    table.append(row);
    return;
  }
  for (const item of items) {
    const row = el('tr');
    for (const c of cells(item)) {
      const td = el('td');
      if (c instanceof Node) td.append(c);
      else if (typeof c === 'string' && c.length > MAX_CELL) {
        td.textContent = `${c.slice(0, MAX_CELL - 1)}…`;
        td.title = c;
      } else td.textContent = String(c ?? '');
      row.append(td);
    }
    if (onSelect) {
      row.classList.add('selectable');
      if (isSelected?.(item)) row.classList.add('selected');
      row.addEventListener('click', () => onSelect(item));
    }
    table.append(row);
  }
}

const ago = (/** @type {string | null | undefined} */ iso) => {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : new Date(iso).toLocaleString();
};
const ref = (/** @type {ModelRef | null | undefined} */ m) => (m ? `${m.name}:${m.version} (#${m.serial})` : '');
const statusClass = (/** @type {string | null | undefined} */ s) =>
  s === 'running' || s === 'active'
    ? 'ok'
    : s === 'reconnecting' || s === 'downloading' || s === 'verifying' || s === 'warming' || s === 'provisioned'
      ? 'warn'
      : 'bad';
const bytes = (/** @type {number} */ n) =>
  n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(0)} KiB` : `${n} B`;

async function refreshHealth() {
  try {
    /** @type {Health} */
    const h = await api('GET', `/healthz`);
    $('health').replaceChildren(
      pill(`${h.status} · ${h.store} · broker ${h.broker.mode}`, h.status === 'ok' ? 'ok' : 'bad'),
    );
  } catch (err) {
    $('health').replaceChildren(pill(`unreachable: ${/** @type {Error} */ (err).message}`, 'bad'));
  }
}

async function refreshIngest() {
  /** @type {IngestStats} */
  const s = await api('GET', `/api/v1/ingest/stats`);
  $('ingest').textContent =
    `ingest: ${s.insertedDetections.toLocaleString()} detections, ${s.insertedFrames.toLocaleString()} frames stored · ${s.rejectedTotal.toLocaleString()} payloads rejected`;
}

async function refreshFleet() {
  /**
   * @type {[
   *   { devices: Device[] },
   *   { cameras: Camera[] },
   *   { models: Model[] },
   *   { assignments: Assignment[] },
   *   { latest: ModelStatus[] },
   * ]}
   */
  const [{ devices }, { cameras }, page, { assignments }, { latest }] = await Promise.all([
    api('GET', `/api/v1/devices`),
    api('GET', `/api/v1/cameras`),
    api('GET', `/api/v1/models?limit=200`),
    api('GET', `/api/v1/assignments`),
    api('GET', `/api/v1/model-status`),
  ]);
  models = page.models;
  const assignment = new Map(assignments.map((a) => [`${a.deviceId}/${a.cameraId}`, a]));
  /** @type {Map<string, ModelStatus[]>} */
  const statuses = new Map();
  for (const s of latest) {
    const key = `${s.deviceId}/${s.cameraId}`;
    statuses.set(key, [...(statuses.get(key) ?? []), s]);
  }

  fill(
    $('cameras'),
    ['device', 'camera', 'status', 'primary', 'candidate', 'agent reports', 'updated'],
    cameras,
    (c) => {
      const key = `${c.deviceId}/${c.cameraId}`;
      const a = assignment.get(key);
      const cand = a?.candidate
        ? `${ref(a.candidate)} · ${a.candidateMode === 'shadow' ? 'shadow' : `${a.splitPercent} %`}`
        : '';
      const reports = el('span');
      for (const s of statuses.get(key) ?? []) {
        reports.append(pill(`${s.arm}: ${s.version} ${s.state}`, statusClass(s.state)), ' ');
        if (s.reason) reports.append(el('span', s.reason, 'muted'), ' ');
      }
      const status = el('span');
      status.append(pill(c.status ?? 'unknown', statusClass(c.status)));
      if (c.lastError) status.append(' ', el('span', c.lastError, 'muted'));
      return [
        c.deviceId,
        c.cameraId,
        status,
        a ? `${ref(a.primary)}${a.rollback ? ' (rolled back)' : ''}` : 'none',
        cand,
        reports,
        ago(c.updatedAt),
      ];
    },
    (c) => select(c.deviceId, c.cameraId),
    (c) => selected !== null && selected.deviceId === c.deviceId && selected.cameraId === c.cameraId,
  );

  fill($('devices'), ['device', 'online', 'last seen', 'agent', 'hardware', 'providers'], devices, (d) => [
    d.id,
    pill(d.online ? 'online' : 'offline', d.online ? 'ok' : 'bad'),
    ago(d.lastSeen),
    d.agentVersion ?? '',
    d.hardware ?? '',
    (d.providers ?? []).join(', '),
  ]);

  fill(
    $('models'),
    ['serial', 'model', 'adapter', 'input', 'classes', 'size', 'sha256', 'mAP50', 'parent', 'by', 'created'],
    models,
    (m) => [
      `#${m.serial}`,
      `${m.name}:${m.version}`,
      m.adapter,
      `${m.inputWidth}×${m.inputHeight}`,
      m.classNames.length <= 4 ? m.classNames.join(', ') : `${m.classNames.length} classes`,
      bytes(m.sizeBytes),
      el('code', m.sha256.slice(0, 12)),
      m.metrics && typeof m.metrics.mAP50 === 'number' ? m.metrics.mAP50.toFixed(3) : '',
      m.parentSerial ? `#${m.parentSerial}` : '',
      m.createdBy,
      new Date(m.createdAt).toLocaleString(),
    ],
  );
  fillModelSelects();

  /** @type {{ entries: AuditEntry[] }} */
  const { entries } = await api('GET', `/api/v1/audit?limit=30`);
  fill($('audit'), ['when', 'actor', 'action', 'target', 'details'], entries, (e) => [
    new Date(e.at).toLocaleString(),
    e.actor,
    e.action,
    e.target,
    JSON.stringify(e.details ?? {}),
  ]);
}

function fillModelSelects() {
  for (const id of ['assign-model', 'assign-candidate']) {
    const sel = $select(id);
    const keep = sel.value;
    /** @type {HTMLOptionElement[]} */
    const options = id === 'assign-candidate' ? [new Option('none', '')] : [];
    for (const m of models) options.push(new Option(`${m.name}:${m.version} (#${m.serial})`, String(m.serial)));
    sel.replaceChildren(...options);
    if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  }
}

/**
 * @param {string} deviceId
 * @param {string} cameraId
 */
async function select(deviceId, cameraId) {
  selected = { deviceId, cameraId };
  $('camera-detail').hidden = false;
  $('camera-title').textContent = `${deviceId} / ${cameraId}`;
  try {
    await refreshDetail(true);
    await refreshFleet();
  } catch (err) {
    say(/** @type {Error} */ (err).message);
  }
}

/** @param {boolean} resetForm */
async function refreshDetail(resetForm) {
  if (!selected) return;
  const d = enc(selected.deviceId);
  const c = enc(selected.cameraId);
  /** @type {[{ detections: Detection[] }, { history: AssignmentHistoryEntry[] }]} */
  const [det, hist] = await Promise.all([
    api('GET', `/api/v1/devices/${d}/cameras/${c}/detections?limit=20`),
    api('GET', `/api/v1/devices/${d}/cameras/${c}/assignment/history?limit=20`).catch((err) =>
      err.status === 404 ? { history: [] } : Promise.reject(err),
    ),
  ]);
  fill($('detections'), ['seq', 'time', 'label', 'score', 'box', 'model', 'arm'], det.detections, (x) => [
    x.seq,
    new Date(x.ts).toLocaleTimeString(),
    x.label || `class ${x.classId}`,
    x.score.toFixed(2),
    x.box.map((v) => Math.round(v)).join(', '),
    x.modelVersion ? `${x.modelId}:${x.modelVersion}` : (x.modelId ?? ''),
    x.arm ?? '',
  ]);
  fill($('history'), ['rev', 'action', 'primary', 'candidate', 'by', 'reason', 'when'], hist.history, (h) => [
    h.revision,
    h.action,
    h.primarySerial ? `#${h.primarySerial}` : '',
    h.candidateSerial
      ? `#${h.candidateSerial} ${h.candidateMode === 'shadow' ? 'shadow' : `${h.splitBasisPoints / 100} %`}`
      : '',
    h.actor,
    h.reason,
    new Date(h.recordedAt).toLocaleString(),
  ]);
  if (resetForm) {
    // The form starts from the camera's current assignment.
    const current = hist.history[0];
    $select('assign-model').value = current?.primarySerial
      ? String(current.primarySerial)
      : $select('assign-model').value;
    $select('assign-candidate').value = current?.candidateSerial ? String(current.candidateSerial) : '';
    $select('assign-mode').value = current && current.candidateMode === 'shadow' ? 'shadow' : 'split';
    if (current && current.candidateMode === 'split')
      $input('assign-split').value = String(current.splitBasisPoints / 100);
  }
}

/** @param {Event} event */
async function assign(event) {
  event.preventDefault();
  const { deviceId, cameraId } = /** @type {Selection} */ (selected);
  /** @type {{ model: number, candidate?: number, mode?: string, splitPercent?: number, reason?: string }} */
  const body = { model: Number($select('assign-model').value) };
  const candidate = $select('assign-candidate').value;
  if (candidate) {
    body.candidate = Number(candidate);
    body.mode = $select('assign-mode').value;
    if (body.mode === 'split') body.splitPercent = Number($input('assign-split').value);
  }
  const reason = $input('assign-reason').value.trim();
  if (reason) body.reason = reason;
  await act(() => api('PUT', `/api/v1/devices/${enc(deviceId)}/cameras/${enc(cameraId)}/assignment`, body), 'assigned');
}

async function promote() {
  const { deviceId, cameraId } = /** @type {Selection} */ (selected);
  await act(
    () => api('POST', `/api/v1/devices/${enc(deviceId)}/cameras/${enc(cameraId)}/assignment/promote`, reasonBody()),
    'candidate promoted',
  );
}

async function rollback() {
  const { deviceId, cameraId } = /** @type {Selection} */ (selected);
  await act(
    () => api('POST', `/api/v1/devices/${enc(deviceId)}/cameras/${enc(cameraId)}/assignment/rollback`, reasonBody()),
    'rolled back',
  );
}

function reasonBody() {
  const reason = $input('assign-reason').value.trim();
  return reason ? { reason } : {};
}

/**
 * Runs an assignment change and says what it did.
 * @param {() => Promise<Assignment>} call
 * @param {string} done
 */
async function act(call, done) {
  try {
    const a = await call();
    say(
      `${done}: revision ${a.revision}, primary ${ref(a.primary)}${a.candidate ? `, candidate ${ref(a.candidate)}` : ''}`,
      'info',
    );
    await refreshDetail(false);
    await refreshFleet();
  } catch (err) {
    say(/** @type {Error} */ (err).message);
  }
}

async function refresh() {
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    say("Paste an API token (the admin token is in the control plane's data directory, admin.token).", 'info');
    await refreshHealth();
    return;
  }
  try {
    await refreshHealth();
    await refreshIngest();
    await refreshFleet();
    await refreshDetail(false);
    if ($('message').className === 'error') say('');
  } catch (caught) {
    const err = /** @type {ApiError} */ (caught);
    say(err.status === 401 ? `${err.message}: check the token` : err.message);
  }
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $input('token').value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  $input('token').value = '';
  say('');
  void refresh();
});
$('forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  void refresh();
});
$('assign-form').addEventListener('submit', (e) => void assign(e));
$('promote').addEventListener('click', () => void promote());
$('rollback').addEventListener('click', () => void rollback());

void refresh();
setInterval(() => {
  if (!document.hidden) void refresh();
}, REFRESH_MS);
