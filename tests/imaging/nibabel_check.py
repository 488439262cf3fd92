#!/usr/bin/python3
"""Prints what nibabel (Debian python3-nibabel) makes of a NIfTI file, as JSON: the affine it
uses, the sform/qform codes, the shape and the values at the voxels given as i,j,k arguments.
Run by caliper_ingest_test to check that Caliper's NIfTI geometry agrees with nibabel's."""
import json
import sys

import nibabel


def main():
    img = nibabel.load(sys.argv[1])
    data = img.get_fdata()
    voxels = [tuple(int(v) for v in arg.split(",")) for arg in sys.argv[2:]]
    print(json.dumps({
        "affine": img.affine.tolist(),
        "sform_code": int(img.header["sform_code"]),
        "qform_code": int(img.header["qform_code"]),
        "shape": list(img.shape),
        "values": [float(data[v]) for v in voxels],
        "axcodes": "".join(nibabel.aff2axcodes(img.affine)),
    }))


if __name__ == "__main__":
    main()
