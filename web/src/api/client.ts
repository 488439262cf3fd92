// The typed API client. Paths, path parameters and JSON request bodies come from the OpenAPI
// document of the server (src/api/generated/openapi.d.ts, made by `npm run gen:api`), answers
// from models.ts. Sends the CSRF token on every state-changing request, reports each request
// to the idle timer and a 401 to the app (the session is gone).

import type { paths } from './generated/openapi';
import type { Responses } from './models';

type Method = 'get' | 'post' | 'put' | 'delete';
type PathFor<M extends Method> = {
  [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never;
}[keyof paths];
type Operation<M extends Method, P extends keyof paths> = paths[P] extends { [K in M]: infer O } ? O : never;
type PathParams<O> = O extends { parameters: { path: infer X } } ? (X extends object ? X : Record<string, never>) : Record<string, never>;
type JsonBody<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : undefined;
type ResponseOf<M extends Method, P> = P extends keyof Responses[M] ? Responses[M][P] : unknown;

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const kCsrfKey = 'caliper.csrf';
let csrfToken = sessionStorage.getItem(kCsrfKey) ?? '';
let onActivity: () => void = () => {};
let onSessionLost: (code: string) => void = () => {};

export function setCsrfToken(token: string): void {
  csrfToken = token;
  if (token) sessionStorage.setItem(kCsrfKey, token);
  else sessionStorage.removeItem(kCsrfKey);
}
export function hasCsrfToken(): boolean {
  return csrfToken !== '';
}
// `activity` runs after every answered request (the server's idle timer restarts);
// `lost` when the server says the session is missing or expired.
export function setSessionHooks(activity: () => void, lost: (code: string) => void): void {
  onActivity = activity;
  onSessionLost = lost;
}

export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

async function send(method: string, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (method !== 'GET' && csrfToken) headers.set('X-CSRF-Token', csrfToken);
  const res = await fetch(url, { ...init, method, headers, credentials: 'same-origin' });
  onActivity();
  if (!res.ok) {
    let code = 'http_' + res.status;
    let message = res.statusText;
    try {
      const body = (await res.json()) as { error?: { code: string; message: string } };
      if (body.error) ({ code, message } = body.error);
    } catch {
      // not JSON: keep the status line
    }
    if (res.status === 401 && !url.endsWith('/auth/login')) onSessionLost(code);
    throw new ApiError(res.status, code, message);
  }
  return res;
}

async function json<T>(res: Response): Promise<T> {
  if (res.status === 204) return null as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

function withQuery(url: string, query?: Record<string, string | number | undefined>): string {
  if (!query) return url;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${url}?${s}` : url;
}

export const api = {
  async get<P extends PathFor<'get'>>(path: P, params: PathParams<Operation<'get', P>>,
                                      query?: Record<string, string | number | undefined>): Promise<ResponseOf<'get', P>> {
    const res = await send('GET', withQuery(fillPath(path, params as Record<string, string>), query));
    return json(res);
  },
  // GET with the response itself (content bytes, ETag).
  async getRaw<P extends PathFor<'get'>>(path: P, params: PathParams<Operation<'get', P>>): Promise<Response> {
    return send('GET', fillPath(path, params as Record<string, string>));
  },
  async post<P extends PathFor<'post'>>(path: P, params: PathParams<Operation<'post', P>>,
                                        body?: JsonBody<Operation<'post', P>>): Promise<ResponseOf<'post', P>> {
    const init: RequestInit = {};
    if (body !== undefined) init.body = JSON.stringify(body), init.headers = { 'Content-Type': 'application/json' };
    return json(await send('POST', fillPath(path, params as Record<string, string>), init));
  },
  async put<P extends PathFor<'put'>>(path: P, params: PathParams<Operation<'put', P>>,
                                      body: JsonBody<Operation<'put', P>>, ifMatch?: string): Promise<ResponseOf<'put', P>> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (ifMatch) headers['If-Match'] = ifMatch;
    return json(await send('PUT', fillPath(path, params as Record<string, string>), { body: JSON.stringify(body), headers }));
  },
  // PUT of raw bytes (a NIfTI mask): `contentType` names them.
  async putBytes<P extends PathFor<'put'>>(path: P, params: PathParams<Operation<'put', P>>, bytes: Uint8Array,
                                           contentType: string): Promise<ResponseOf<'put', P>> {
    return json(await send('PUT', fillPath(path, params as Record<string, string>),
                           { body: new Blob([bytes.slice()], { type: contentType }), headers: { 'Content-Type': contentType } }));
  },
  async del<P extends PathFor<'delete'>>(path: P, params: PathParams<Operation<'delete', P>>): Promise<ResponseOf<'delete', P>> {
    return json(await send('DELETE', fillPath(path, params as Record<string, string>)));
  },
  // multipart/form-data: a 'metadata' JSON part and a binary 'content' part.
  async upload<P extends PathFor<'post'>>(path: P, params: PathParams<Operation<'post', P>>,
                                          metadata: object, content: Blob, filename: string): Promise<ResponseOf<'post', P>> {
    const form = new FormData();
    form.append('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }));
    form.append('content', content, filename);
    return json(await send('POST', fillPath(path, params as Record<string, string>), { body: form }));
  },
};

// Every row of a cursor-paginated list (a few pages at most in the app's screens).
export async function all<T>(fetchPage: (cursor?: string) => Promise<{ data: T[]; next_cursor: string | null }>,
                             maxPages = 20): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; ++i) {
    const page = await fetchPage(cursor);
    rows.push(...page.data);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return rows;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message || e.code} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}
