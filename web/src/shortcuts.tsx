// Keyboard shortcuts: screens register theirs while they are shown; "?" opens a help overlay
// listing every shortcut in force. Keys typed into a form field are left to the field (except
// Escape); keys in a viewer marked with useKeysForShortcutsOnly reach only the shortcuts. While a
// modal layer is registered (an open dialog), only its shortcuts run: the screen behind it gets
// no keys, and its own Escape cannot take the dialog's.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Shortcut {
  key: string;          // KeyboardEvent.key, e.g. "n", "ArrowUp", "Escape"; "ctrl+z" for modifiers
  description: string;
  run: () => void;
}

// A component's shortcuts as of its latest render (a getter, so a key pressed right after a
// change runs the new closures, not those of the render before: effects run only after paint).
interface Layer { shortcuts: () => Shortcut[]; modal: boolean }
const active = new Map<number, Layer>();
let nextId = 1;
const changed = new Set<() => void>();

// "a", "shift+a" (Shift with a letter is a key of its own: the volume room's pre-label keys are
// Shift with the note room's letters, whose plain letters pick views there), "?", "ctrl+z",
// "shift+F1", "ArrowUp".
function keyName(e: KeyboardEvent): string {
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const shifted = e.shiftKey && (e.key.length > 1 || /^[a-z]$/i.test(e.key));
  return (e.ctrlKey || e.metaKey ? 'ctrl+' : '') + (shifted ? 'shift+' : '') + k;
}

function inField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

function dispatch(e: KeyboardEvent): void {
  const name = keyName(e);
  if (inField(e.target) && name !== 'Escape') return;
  const layers = [...active.values()];
  const modal = layers.filter((l) => l.modal);
  // The latest registration wins (a screen's over the app's), a modal layer over everything.
  const all = (modal.length ? modal : layers).flatMap((l) => l.shortcuts()).reverse();
  const hit = all.find((s) => s.key === name);
  if (hit) {
    e.preventDefault();
    hit.run();
  }
}
window.addEventListener('keydown', dispatch);

// Viewers whose libraries bring keys of their own (NiiVue cycles its drag mode on M, its view on
// V and opens an alert on "?"; Annotorious undoes on Ctrl+Z by itself): a key pressed in one goes
// to the app's shortcuts alone, taken at the window before any element sees it.
const kept = new Set<HTMLElement>();
const inKept = (target: EventTarget | null) => [...kept].some((el) => target instanceof Node && el.contains(target));
window.addEventListener('keydown', (e) => {
  if (!inKept(e.target)) return;
  e.stopPropagation();
  dispatch(e);
}, true);
window.addEventListener('keyup', (e) => { if (inKept(e.target)) e.stopPropagation(); }, true);

// While the calling component is mounted, the element `ref` holds (and what is inside it) gets no
// key events of its own; its keys run the shortcuts in force as anywhere else.
export function useKeysForShortcutsOnly(ref: { current: HTMLElement | null }): void {
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    kept.add(el);
    return () => void kept.delete(el);
  }, []);
}

// Registers `shortcuts` while the calling component is mounted; a key runs the shortcut of the
// latest render. `deps` re-register them (the latest registration wins a key; the help list is
// redrawn). `modal`: a dialog's keys, which alone run while it is registered.
export function useShortcuts(shortcuts: Shortcut[], deps: unknown[], { modal = false } = {}): void {
  const latest = useRef(shortcuts);
  latest.current = shortcuts;
  // A layout effect: registered before the browser paints, so a key pressed once a dialog is
  // seen goes to the dialog (a plain effect may run a frame later, and the key to the screen).
  useLayoutEffect(() => {
    const id = nextId++;
    active.set(id, { shortcuts: () => latest.current, modal });
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
  useShortcuts([{ key: '?', description: 'Show or hide this help', run: () => setOpen((o) => !o) }], []);
  return open ? <ShortcutDialog close={() => setOpen(false)} /> : null;
}

// The help overlay: the shortcuts of the screen behind it; Escape or "?" closes it (a modal
// layer, so the screen's own Escape does not take the key).
function ShortcutDialog({ close }: { close: () => void }) {
  useShortcuts([
    { key: 'Escape', description: 'Close this help', run: close },
    { key: '?', description: 'Close this help', run: close },
  ], [], { modal: true });
  const rows = [...active.values()].filter((l) => !l.modal).flatMap((l) => l.shortcuts());
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
        <button type="button" onClick={close} autoFocus>Close</button>
      </div>
    </div>
  );
}
