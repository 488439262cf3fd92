// The application shell: who is signed in, the header, the screen for the current path, the
// idle warning and the keyboard help.

import { useEffect, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { api, hasCsrfToken, setCsrfToken } from './api/client';
import type { SessionInfo } from './api/models';
import { linkClick, matchPath, mayLeave, navigate, useLocation } from './router';
import { ChangePassword, IdleWarning, SignIn } from './session';
import { ShortcutHelp } from './shortcuts';
import { lazyComponent } from './lazy';
import { ProjectList } from './screens/projects';
import { ProjectHome } from './screens/project_home';
import { TaskRoom } from './screens/task_room';
import { ReviewRoom } from './screens/review';
import { AdjudicationRoom } from './screens/adjudication';
import { AdminUsers, AdminAudit, AdminSessions, ProjectMembers } from './screens/admin';
import { ExportsScreen } from './screens/exports';

interface ScreenProps { params: Record<string, string>; session: SessionInfo }
type Screen = (p: ScreenProps) => preact.JSX.Element;

// A screen whose module (and its libraries: Plot) loads only when it is first shown.
function lazy(load: () => Promise<ComponentType<ScreenProps>>): Screen {
  return lazyComponent(load, () => <main id="main"><p class="loading">Loading…</p></main>,
                       (error) => <main id="main"><p class="error" role="alert">Could not load this screen: {error}</p></main>);
}
const QualityDashboard = lazy(() => import('./screens/quality').then((m) => m.QualityDashboard));
// Screens of a few (data stewards, managers): loaded when first shown.
const QuarantineScreen = lazy(() => import('./screens/quarantine').then((m) => m.QuarantineScreen));
const DicomSettingsScreen = lazy(() => import('./screens/dicom_settings').then((m) => m.DicomSettingsScreen));
const kScreens: [string, Screen][] = [
  ['/', ProjectList],
  ['/projects/:project_id', ProjectHome],
  ['/projects/:project_id/tasks/:task_id', TaskRoom],
  ['/projects/:project_id/review/:task_id', ReviewRoom],
  ['/projects/:project_id/adjudicate/:item_id', AdjudicationRoom],
  ['/projects/:project_id/members', ProjectMembers],
  ['/projects/:project_id/quality', QualityDashboard],
  ['/projects/:project_id/exports', ExportsScreen],
  ['/projects/:project_id/quarantine', QuarantineScreen],
  ['/projects/:project_id/dicom', DicomSettingsScreen],
  ['/admin/users', AdminUsers],
  ['/admin/sessions', AdminSessions],
  ['/admin/audit', AdminAudit],
];

export function App() {
  const path = useLocation();
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [checked, setChecked] = useState(false);
  const [notice, setNotice] = useState('');

  useEffect(() => {
    // A reload keeps the HttpOnly cookie; the CSRF token lives in this tab's sessionStorage.
    if (!hasCsrfToken()) return setChecked(true);
    api.get('/api/v1/auth/session', {})
      .then((s) => setSession(s))
      .catch(() => setCsrfToken(''))
      .finally(() => setChecked(true));
  }, []);

  const signedOut = (message: string) => {
    setCsrfToken('');
    setSession(null);
    setNotice(message);
  };
  const signOut = async () => {
    if (!mayLeave()) return;
    try {
      await api.post('/api/v1/auth/logout', {});
    } finally {
      signedOut('You signed out.');
      navigate('/', false, false);
    }
  };

  if (!checked) return <p class="loading">Loading…</p>;
  if (!session) {
    return <SignIn notice={notice} onSignedIn={(s) => { setNotice(''); setSession(s); }} />;
  }
  if (session.user.must_change_password) {
    return <ChangePassword forced username={session.user.username} onDone={setSession} />;
  }

  let body: preact.JSX.Element = <NotFound />;
  for (const [pattern, Component] of kScreens) {
    const params = matchPath(pattern, path);
    if (params) {
      body = <Component key={path} params={params} session={session} />;
      break;
    }
  }
  const admin = session.user.is_admin;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a href="/" onClick={linkClick} class="brand">Caliper</a>
        <nav aria-label="Main">
          <a href="/" onClick={linkClick} aria-current={path === '/' ? 'page' : undefined}>Projects</a>
          {admin && <a href="/admin/users" onClick={linkClick} aria-current={path === '/admin/users' ? 'page' : undefined}>Users</a>}
          {admin && <a href="/admin/sessions" onClick={linkClick} aria-current={path === '/admin/sessions' ? 'page' : undefined}>Sessions</a>}
          {admin && <a href="/admin/audit" onClick={linkClick} aria-current={path === '/admin/audit' ? 'page' : undefined}>Audit log</a>}
        </nav>
        <span class="who">{session.user.display_name || session.user.username}</span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      {body}
      <IdleWarning session={session} onExpired={(code) => signedOut(code === 'session_expired'
        ? 'Your session ended after inactivity. Sign in again.'
        : 'Your session has ended (signed out elsewhere, or by an administrator). Sign in again.')} />
      <ShortcutHelp />
      <footer class="hint">Press <kbd>?</kbd> for keyboard shortcuts.</footer>
    </>
  );
}

function NotFound() {
  return (
    <main id="main">
      <h1>Not found</h1>
      <p>There is no such page. <a href="/" onClick={linkClick}>Back to your projects</a>.</p>
    </main>
  );
}
