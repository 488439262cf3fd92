// The guideline for the class being labelled, as the version in force states it: definition,
// inclusion and exclusion criteria, examples and edge-case rules.

import type { Guideline, LabelClass } from '../api/models';

export function GuidelinePanel({ guideline, cls }: { guideline: Guideline | null; cls: LabelClass | undefined }) {
  if (!guideline) return <aside class="guideline"><p>No guideline is published; labels cannot be saved yet.</p></aside>;
  return (
    <aside class="guideline" aria-labelledby="guideline-h">
      <h2 id="guideline-h">Guideline v{guideline.version}{cls ? `: ${cls.name}` : ''}</h2>
      {!cls && <p class="muted">Choose a class to see its definition.</p>}
      {cls && (
        <>
          <p class="codes">{(cls.codes ?? []).map((c) => `${c.system} ${c.code}${c.display ? ` (${c.display})` : ''}`).join(' · ') || 'No code bound'}</p>
          {cls.definition && <><h3>Definition</h3><p>{cls.definition}</p></>}
          <Criteria title="Include" items={cls.inclusion_criteria} />
          <Criteria title="Exclude" items={cls.exclusion_criteria} />
          {cls.examples && cls.examples.length > 0 && (
            <>
              <h3>Examples</h3>
              <ul>{cls.examples.map((e) => <li key={e.item_id + e.polarity}>{e.polarity}: {e.note ?? e.item_id}</li>)}</ul>
            </>
          )}
          <Criteria title="Edge cases" items={cls.edge_cases} />
          {cls.resolver_role && <p class="muted">Disagreements are resolved by: {cls.resolver_role}</p>}
        </>
      )}
    </aside>
  );
}

function Criteria({ title, items }: { title: string; items: string[] | undefined }) {
  if (!items || items.length === 0) return null;
  return (
    <>
      <h3>{title}</h3>
      <ul>{items.map((i) => <li key={i}>{i}</li>)}</ul>
    </>
  );
}
