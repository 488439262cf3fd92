// What a screen shows while it loads, or when the server refused or failed to answer.

import { linkClick } from '../router';

export function Failure({ message }: { message: string }) {
  return (
    <main id="main">
      <h1>This page cannot be shown</h1>
      <p class="error" role="alert">{message}</p>
      <p><a href="/" onClick={linkClick}>Back to your projects</a></p>
    </main>
  );
}

export function Loading() {
  return <main id="main"><p class="loading" role="status">Loading…</p></main>;
}
