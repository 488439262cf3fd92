// Signing in and staying signed in: the sign-in form, the forced change of a one-time
// password, and the warning before the server's idle timeout ends the session.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText, setCsrfToken, setSessionHooks } from './api/client';
import type { SessionInfo } from './api/models';
import { useShortcuts } from './shortcuts';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (s: SessionInfo) => void; notice: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const s = await api.post('/api/v1/auth/login', {}, { username, password });
      setCsrfToken(s.csrf_token ?? '');
      onSignedIn(s);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="narrow" id="main">
      <h1>Sign in to Caliper</h1>
      {notice && <p class="notice" role="status">{notice}</p>}
      <form onSubmit={submit} class="stack">
        <label>Username
          <input name="username" autoComplete="username" required value={username}
                 onInput={(e) => setUsername(e.currentTarget.value)} autoFocus />
        </label>
        <label>Password
          <input name="password" type="password" autoComplete="current-password" required value={password}
                 onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>Sign in</button>
      </form>
    </main>
  );
}

// The server ends every session of the user when the password changes (a stolen session dies
// with the old password), so this signs in again with the new one.
export function ChangePassword({ forced, username, onDone }:
    { forced: boolean; username: string; onDone: (s: SessionInfo) => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    if (next !== again) return setError('The new passwords differ.');
    try {
      await api.post('/api/v1/me/password', {}, { current_password: current, new_password: next });
      const s = await api.post('/api/v1/auth/login', {}, { username, password: next });
      setCsrfToken(s.csrf_token ?? '');
      onDone(s);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <main class="narrow" id="main">
      <h1>Choose a new password</h1>
      {forced && <p class="notice" role="status">You signed in with a one-time password. Choose your own before you go on.</p>}
      <form onSubmit={submit} class="stack">
        <label>Current password
          <input type="password" autoComplete="current-password" required value={current}
                 onInput={(e) => setCurrent(e.currentTarget.value)} autoFocus />
        </label>
        <label>New password (at least 12 characters)
          <input type="password" autoComplete="new-password" required value={next}
                 onInput={(e) => setNext(e.currentTarget.value)} />
        </label>
        <label>New password again
          <input type="password" autoComplete="new-password" required value={again}
                 onInput={(e) => setAgain(e.currentTarget.value)} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary">Change password</button>
      </form>
    </main>
  );
}

// Counts down from the last answered request; `idle_warning_seconds` before the server would
// end the session it asks whether to stay, and at zero it reports the session as ended.
export function IdleWarning({ session, onExpired }: { session: SessionInfo; onExpired: (code: string) => void }) {
  const last = useRef(Date.now());
  const [left, setLeft] = useState(session.idle_timeout_seconds);
  useEffect(() => {
    setSessionHooks(() => { last.current = Date.now(); }, (code) => onExpired(code));
    const timer = setInterval(() => {
      const remaining = Math.round(session.idle_timeout_seconds - (Date.now() - last.current) / 1000);
      setLeft(remaining);
      if (remaining <= 0) onExpired('session_expired');
    }, 1000);
    return () => clearInterval(timer);
  }, [session]);
  if (left > session.idle_warning_seconds) return null;
  const stay = () => void api.get('/api/v1/auth/session', {}).catch(() => onExpired('session_expired'));
  return <IdleDialog left={left} stay={stay} />;
}

// Modal for keys too: while it is open the screen behind gets none (a modal shortcut layer),
// Escape stays signed in like the button, the focus is on the button and Tab keeps it there;
// closing gives the focus back to where it was.
function IdleDialog({ left, stay }: { left: number; stay: () => void }) {
  useShortcuts([{ key: 'Escape', description: 'Stay signed in', run: stay }], [], { modal: true });
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    button.current?.focus();
    const keepFocus = (e: KeyboardEvent) => {
      if (e.key !== 'Tab') return;
      e.preventDefault();
      button.current?.focus();
    };
    window.addEventListener('keydown', keepFocus, true);
    return () => {
      window.removeEventListener('keydown', keepFocus, true);
      before?.focus?.();
    };
  }, []);
  return (
    <div class="overlay" role="alertdialog" aria-modal="true" aria-labelledby="idle-title" aria-describedby="idle-text">
      <div class="dialog">
        <h2 id="idle-title">Still there?</h2>
        <p id="idle-text">For patient privacy you will be signed out in <strong>{Math.max(0, left)} s</strong> without activity.</p>
        <button ref={button} type="button" class="primary" onClick={stay}>Stay signed in</button>
      </div>
    </div>
  );
}
