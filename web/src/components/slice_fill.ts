// The volume room's fill of an unpainted area (G on a voxel nothing is painted on): the
// connected unpainted voxels of one slice of the drawing, bounded by painted voxels of any
// segment, take the segment's value. NiiVue's own fill (without growing) only recolours a
// painted region, and from an unpainted voxel it painted that one voxel.
//
// Connectivity is 4 within the slice (edges, not corners): a pen line is 8-connected, so an
// outline drawn with the pen holds. An area that reaches the slice's edge is not enclosed;
// filling it would paint the rest of the slice, so nothing is painted and the caller tells the
// reader (docs/web.md, "Fill").

// The drawing's voxels: x fastest, then y, then z (NiiVue's drawBitmap on the background's grid).
export type Dims = readonly [number, number, number];
// The slice's fixed axis: 2 for an axial slice (z fixed), 1 coronal (y), 0 sagittal (x).
export type SliceAxis = 0 | 1 | 2;

// How a fill ended: the number of voxels painted, or why nothing was.
export type FillOutcome = { filled: number } | { refused: 'painted' | 'outside' | 'open' };

export function fillEnclosedArea(bitmap: Uint8Array, dims: Dims, seed: readonly number[], axis: SliceAxis,
                                 value: number): FillOutcome {
  const strides = [1, dims[0], dims[0] * dims[1]] as const;
  const [ua, va] = axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
  const nu = dims[ua]!, nv = dims[va]!;
  const s = seed.map(Math.round);
  if (s.some((c, i) => !(c >= 0 && c < dims[i]!))) return { refused: 'outside' };
  const base = s[axis]! * strides[axis];
  const su = strides[ua]!, sv = strides[va]!;
  const voxel = (u: number, v: number) => base + u * su + v * sv;
  if (bitmap[voxel(s[ua]!, s[va]!)] !== 0) return { refused: 'painted' };
  // Scanline fill into `area` (1 = part of the area); painted only once it is known to be enclosed.
  const area = new Uint8Array(nu * nv);
  const free = (u: number, v: number) => area[v * nu + u] === 0 && bitmap[voxel(u, v)] === 0;
  const stack: number[] = [s[ua]!, s[va]!];
  let filled = 0;
  while (stack.length > 0) {
    const v = stack.pop()!, u0 = stack.pop()!;
    if (!free(u0, v)) continue;
    let left = u0, right = u0;
    while (left > 0 && free(left - 1, v)) --left;
    while (right < nu - 1 && free(right + 1, v)) ++right;
    if (left === 0 || right === nu - 1 || v === 0 || v === nv - 1) return { refused: 'open' };
    area.fill(1, v * nu + left, v * nu + right + 1);
    filled += right - left + 1;
    for (const w of [v - 1, v + 1]) {
      let inRun = false;
      for (let u = left; u <= right; ++u) {
        const f = free(u, w);
        if (f && !inRun) stack.push(u, w);
        inRun = f;
      }
    }
  }
  for (let v = 0; v < nv; ++v) {
    for (let u = 0; u < nu; ++u) if (area[v * nu + u]) bitmap[voxel(u, v)] = value;
  }
  return { filled };
}
