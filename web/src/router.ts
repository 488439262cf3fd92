// A small history router: screens are chosen by matching location.pathname against patterns
// like "/projects/:project_id". The server answers every non-API path with index.html.

import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();

// Work a screen has not saved yet (e.g. "ECG labels"): while there is any, leaving asks first —
// in-app links and back/forward through confirm(), closing or reloading the tab through the
// browser's own prompt.
const unsaved = new Set<string>();

export function useUnsavedWork(what: string, dirty: boolean): void {
  useEffect(() => {
    if (!dirty) return;
    unsaved.add(what);
    return () => void unsaved.delete(what);
  }, [what, dirty]);
}

// True when nothing is unsaved or the user chose to leave it.
export function mayLeave(): boolean {
  if (unsaved.size === 0) return true;
  return window.confirm(`Your ${[...unsaved].join(' and ')} are not saved. Leave without saving them?`);
}

window.addEventListener('beforeunload', (e) => {
  if (unsaved.size === 0) return;
  e.preventDefault();
  e.returnValue = '';
});

let current = location.pathname + location.search;

// `ask` false: leave without asking (the user has already been asked, or the session ended).
export function navigate(to: string, replace = false, ask = true): void {
  if (to === location.pathname + location.search) return;
  if (ask && !mayLeave()) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  current = to;
  listeners.forEach((l) => l());
}

window.addEventListener('popstate', () => {
  if (!mayLeave()) {  // stay: put the page left back on top
    history.pushState(null, '', current);
    return;
  }
  current = location.pathname + location.search;
  listeners.forEach((l) => l());
});

export function useLocation(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return path;
}

// The parameters of `path` when it matches `pattern`, else null.
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const a = path.replace(/\/+$/, '').split('/');
  if (a.length === 1) a.push('');
  if (p.length !== a.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; ++i) {
    const seg = p[i]!;
    const actual = a[i]!;
    if (seg.startsWith(':')) {
      if (!actual) return null;
      params[seg.slice(1)] = decodeURIComponent(actual);
    } else if (seg !== actual) {
      return null;
    }
  }
  return params;
}

// Click handler for in-app links (plain left clicks only; a new tab still works).
export function linkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement);
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href') ?? '/');
}
