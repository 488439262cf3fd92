// A component whose module (and its heavy library: Plot, NiiVue, OpenSeadragon...) loads when it
// is first shown, not with the app. `loading` and `failed` render the wait and a failed load.

import { useEffect, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';

export function lazyComponent<P extends object>(
    load: () => Promise<ComponentType<P>>,
    loading: () => preact.JSX.Element,
    failed: (error: string) => preact.JSX.Element): (props: P) => preact.JSX.Element {
  let loaded: ComponentType<P> | null = null;
  return function Lazy(props: P) {
    const [, setReady] = useState(false);
    const [error, setError] = useState('');
    useEffect(() => {
      if (!loaded) load().then((c) => { loaded = c; setReady(true); }).catch((e) => setError(String(e)));
    }, []);
    if (error) return failed(error);
    const Loaded = loaded;
    return Loaded ? <Loaded {...props} /> : loading();
  };
}
