// Keyboard shortcuts: screens register theirs while they are shown; "?" opens a help overlay
// listing every shortcut in force. Keys typed into a form field are left to the field (except
// Escape).

import { useEffect, useState } from 'preact/hooks';

export interface Shortcut {
  key: string;          // KeyboardEvent.key, e.g. "n", "ArrowUp", "Escape"; "ctrl+z" for modifiers
  description: string;
  run: () => void;
}

const active = new Map<number, Shortcut[]>();
let nextId = 1;
const changed = new Set<() => void>();

function keyName(e: KeyboardEvent): string {
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  return (e.ctrlKey || e.metaKey ? 'ctrl+' : '') + (e.shiftKey && e.key.length > 1 ? 'shift+' : '') + k;
}

function inField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

window.addEventListener('keydown', (e) => {
  const name = keyName(e);
  if (inField(e.target) && name !== 'Escape') return;
  const all = [...active.values()].flat().reverse();  // the latest screen wins
  const hit = all.find((s) => s.key === name || (name === '?' && s.key === '?'));
  if (hit) {
    e.preventDefault();
    hit.run();
  }
});

// Registers `shortcuts` while the calling component is mounted. `deps` re-register them.
export function useShortcuts(shortcuts: Shortcut[], deps: unknown[]): void {
  useEffect(() => {
    const id = nextId++;
    active.set(id, shortcuts);
    changed.forEach((c) => c());
    return () => {
      active.delete(id);
      changed.forEach((c) => c());
    };
  }, deps);
}

export function ShortcutHelp() {
  const [open, setOpen] = useState(false);
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((t) => t + 1);
    changed.add(update);
    return () => void changed.delete(update);
  }, []);
  useShortcuts([
    { key: '?', description: 'Show or hide this help', run: () => setOpen((o) => !o) },
    { key: 'Escape', description: 'Close dialogs', run: () => setOpen(false) },
  ], []);
  if (!open) return null;
  const rows = [...active.values()].flat();
  const pretty = (k: string) => (k === ' ' ? 'Space' : k.replace('ctrl+', 'Ctrl+').replace('shift+', 'Shift+'));
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="shortcut-title">
      <div class="dialog">
        <h2 id="shortcut-title">Keyboard shortcuts</h2>
        <table class="shortcuts">
          <tbody>
            {rows.map((s) => (
              <tr key={s.key + s.description}>
                <td><kbd>{pretty(s.key)}</kbd></td>
                <td>{s.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={() => setOpen(false)} autoFocus>Close</button>
      </div>
    </div>
  );
}
