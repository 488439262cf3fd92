// What the reading rooms' viewers share: a colour per class (the label schema has no colour
// field, so class i of a list gets colour i) and how a class is offered in a picker.

import type { LabelClass } from '../api/models';

// Distinct colours, visible on grey CT, on H&E pink and on ECG paper.
export const kClassColours: [number, number, number][] = [
  [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
  [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
];

// The CSS colour of `classId` among `classes` (grey when it is not one of them).
export function classColour(classes: LabelClass[], classId: string): `#${string}` {
  const i = classes.findIndex((c) => c.id === classId);
  if (i < 0) return '#7a7a7a';
  return `#${kClassColours[i % kClassColours.length]!.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

// "Name (SNOMED CT 1234)": a class with its first code.
export function classOption(c: LabelClass): string {
  const code = c.codes?.[0];
  return code ? `${c.name} (${code.system} ${code.code})` : c.name;
}
