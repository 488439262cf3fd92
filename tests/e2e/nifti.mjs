// A synthetic CT volume as NIfTI-1 (.nii.gz) for the volume reading room tests: air outside an
// elliptic body (soft tissue), a liver with a round lesion, and a spine, in Hounsfield units.
// Made here, deterministically; nothing from a patient.

import { gzipSync } from 'node:zlib';

// A NIfTI-1 header (352 bytes, with the empty extension flag) for an nx×ny×nz volume of
// `spacing` mm centred in x and y; datatype 4 is int16, 2 is uint8.
function header(nx, ny, nz, spacing, datatype, bitpix) {
  const header = Buffer.alloc(352);
  header.writeInt32LE(348, 0);                       // sizeof_hdr
  const dims = [3, nx, ny, nz, 1, 1, 1, 1];
  dims.forEach((d, i) => header.writeInt16LE(d, 40 + 2 * i));
  header.writeInt16LE(datatype, 70);
  header.writeInt16LE(bitpix, 72);
  const pixdim = [1, ...spacing, 1, 0, 0, 0];
  pixdim.forEach((p, i) => header.writeFloatLE(p, 76 + 4 * i));
  header.writeFloatLE(352, 108);                     // vox_offset
  header.writeFloatLE(1, 112);                       // scl_slope
  header.writeFloatLE(0, 116);                       // scl_inter
  header.writeUInt8(2, 123);                         // xyzt_units: mm
  header.writeInt16LE(1, 254);                       // sform_code: scanner
  const srow = [[spacing[0], 0, 0, -nx * spacing[0] / 2], [0, spacing[1], 0, -ny * spacing[1] / 2], [0, 0, spacing[2], 0]];
  srow.flat().forEach((v, i) => header.writeFloatLE(v, 280 + 4 * i));
  header.write('n+1\0', 344, 'latin1');
  return header;
}

// An empty uint8 label map (every voxel 0) on the grid syntheticCtNifti makes for the same
// arguments.
export function emptyLabelNifti(nx, ny, nz, spacing = [0.7, 0.7, 1.0]) {
  return boxLabelNifti(nx, ny, nz, spacing, null);
}

// A uint8 label map on that grid holding 1 in the box [x0, x1) × [y0, y1) × [z0, z1) (none: empty).
export function boxLabelNifti(nx, ny, nz, spacing, box) {
  const voxels = Buffer.alloc(nx * ny * nz);
  if (box) {
    const [x0, x1, y0, y1, z0, z1] = box;
    for (let z = z0; z < z1; ++z) for (let y = y0; y < y1; ++y) voxels.fill(1, (z * ny + y) * nx + x0, (z * ny + y) * nx + x1);
  }
  return gzipSync(Buffer.concat([header(nx, ny, nz, spacing, 2, 8), voxels]));
}

export function syntheticCtNifti(nx = 512, ny = 512, nz = 300, spacing = [0.7, 0.7, 1.0]) {
  const voxels = new Int16Array(nx * ny * nz);
  const cx = nx / 2, cy = ny / 2;
  const lesionR2 = 15 * 15;  // a 30 mm lesion
  for (let z = 0; z < nz; ++z) {
    const dz = (z - nz / 2) / (nz / 2);
    const lz = ((z - nz / 2) * spacing[2]) ** 2;
    for (let y = 0; y < ny; ++y) {
      const by = (y - cy) / (ny * 0.32), ly = (y - cy + ny * 0.06) / (ny * 0.14);
      const sy = (y - cy + ny * 0.2) / (ny * 0.05), ry = ((y - cy + ny * 0.04) * spacing[1]) ** 2;
      const row = (z * ny + y) * nx;
      for (let x = 0; x < nx; ++x) {
        const bx = (x - cx) / (nx * 0.42);
        let hu = -1000;
        if (bx * bx + by * by < 1) {
          hu = 35 + ((x * 7 + y * 13 + z * 3) % 11);                  // soft tissue with a little texture
          const lx = (x - cx + nx * 0.12) / (nx * 0.16);
          if (lx * lx + ly * ly + dz * dz * 0.6 < 1) hu = 60;          // liver
          if (((x - cx + nx * 0.12) * spacing[0]) ** 2 + ry + lz < lesionR2) hu = 120;  // lesion
          const sx = (x - cx) / (nx * 0.05);
          if (sx * sx + sy * sy < 1) hu = 700;                        // spine (posterior)
        }
        voxels[row + x] = hu;
      }
    }
  }
  return gzipSync(Buffer.concat([header(nx, ny, nz, spacing, 4, 16), Buffer.from(voxels.buffer)]), { level: 1 });
}
