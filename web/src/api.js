// The documented API on this origin (through the front door), with the API key when one is set.
const KEY = "execkpi.apiKey";
export const API_KEY_HEADER = "X-API-Key"; // common/http.py API_KEY_HEADER

export const apiKey = {
  get: () => localStorage.getItem(KEY) || "",
  set: (value) => (value ? localStorage.setItem(KEY, value) : localStorage.removeItem(KEY)),
};

export class ApiError extends Error {
  constructor(status, message, field) {
    super(field ? `${message} (${field})` : message);
    this.status = status;
    this.field = field; // the request field the API names, to mark its input
  }
}

export function apiUrl(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// An offline snapshot (scripts/local/snapshot.py) embeds answers as {status, body}: a GET's by
// its URL, a POST's by snapshotPostKey; it serves those and nothing else: no network, no download.
const SNAPSHOT_ELEMENT = "execkpi-snapshot";
export const snapshot = (() => {
  const element = document.getElementById(SNAPSHOT_ELEMENT);
  return element ? JSON.parse(element.textContent) : null;
})();

/** JSON with every object's keys sorted and no spaces: Python's
 * json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for the strings,
 * booleans and integers a page's default body holds (snapshot.py canonical_json). */
function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
}

/** A POST's key in the snapshot: method, path and canonical body (snapshot.py Post.key). */
export const snapshotPostKey = (path, body) => `POST ${path} ${canonicalJson(body)}`;

function fromSnapshot(key) {
  const answer = snapshot.answers[key];
  if (!answer) throw new ApiError(0, `not in this snapshot: ${key}`);
  if (answer.status >= 400) {
    const error = answer.body?.error ?? {};
    throw new ApiError(answer.status, `${answer.status}: ${error.message}`, error.field);
  }
  return answer.body;
}

async function request(path, params, accept, body) {
  if (snapshot) throw new ApiError(0, "not available in the offline snapshot");
  const headers = { Accept: accept };
  const key = apiKey.get();
  if (key) headers[API_KEY_HEADER] = key;
  const init = { headers };
  if (body !== undefined) {
    Object.assign(init, { method: "POST", body: JSON.stringify(body) });
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(apiUrl(path, params), init);
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const error = body?.error ?? {};
    throw new ApiError(response.status, `${response.status}: ${error.message ?? response.statusText}`, error.field);
  }
  return response;
}

export async function getJson(path, params) {
  if (snapshot) return fromSnapshot(apiUrl(path, params));
  return (await request(path, params, "application/json")).json();
}

/** A JSON body POSTed, the JSON answer back (4xx errors name their field, as GETs do); offline,
 * the snapshot's answer to the same body, if it holds one. */
export async function postJson(path, body) {
  if (snapshot) return fromSnapshot(snapshotPostKey(path, body));
  return (await request(path, {}, "application/json", body)).json();
}

/** A CSV or XLSX answer saved as the file the API names (fetched, so the key goes along). */
export async function download(path, params) {
  const response = await request(path, params, "*/*");
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? "download";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
