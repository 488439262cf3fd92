// An Observable Plot figure as a component: `make` draws it (again when `make` changes), inside a
// labelled image (role img) for assistive technology. Imported only by lazily loaded modules
// (the quality dashboard, the lab chart), so Plot never loads with the app.

import { useEffect, useRef } from 'preact/hooks';

export function PlotFigure({ make, label }: { make: () => SVGSVGElement | HTMLElement; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.replaceChildren(make());
  }, [make]);
  return <div ref={ref} class="plot" role="img" aria-label={label} />;
}
