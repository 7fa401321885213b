// The API client: bearer token from sessionStorage, JSON in and out, errors as ApiError with the status.
const KEY = "aftercare.token";

export class ApiError extends Error {
  constructor(status, detail, path) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.path = path;
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t.trim()),
  clear: () => sessionStorage.removeItem(KEY),
};

export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const url = path.startsWith("/") ? path : `/api/v1/${path}`;
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "the server cannot be reached", url);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) throw new ApiError(res.status, (data && data.detail) || res.statusText || "request failed", url);
  return data;
}

/** Like api() but answers `fallback` for 404/405/403 (routes that may not exist yet or are not ours). */
export async function maybe(path, fallback = null, statuses = [404, 405]) {
  try {
    return await api(path);
  } catch (err) {
    if (err instanceof ApiError && statuses.includes(err.status)) return fallback;
    throw err;
  }
}

/** Items of a page ({items,total}) or of a plain list. */
export const items = (x) => (Array.isArray(x) ? x : (x && Array.isArray(x.items) ? x.items : []));

const blobCache = new Map();
/** A photo (bearer-protected) as an object URL. */
export async function blobUrl(url) {
  if (blobCache.has(url)) return blobCache.get(url);
  const p = (async () => {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token.get()}` } });
    if (!res.ok) throw new ApiError(res.status, `photo: ${res.status}`, url);
    return URL.createObjectURL(await res.blob());
  })();
  blobCache.set(url, p);
  p.catch(() => blobCache.delete(url));
  return p;
}
