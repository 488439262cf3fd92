#!/usr/bin/python3
"""Prints what pydicom (Debian python3-pydicom, with numpy) reads from an image's pixel data,
as JSON: transfer syntax, Photometric Interpretation, the pixel array's shape, the largest
stored value inside the rectangle X,Y,W,H (every frame and sample) and the sum of all stored
values. Run by caliper_dicom_test on a blanked instance.
Usage: pydicom_pixels_check.py FILE X,Y,W,H"""
import json
import sys

import pydicom


def main():
    ds = pydicom.dcmread(sys.argv[1])
    x, y, w, h = (int(v) for v in sys.argv[2].split(","))
    a = ds.pixel_array
    if int(ds.SamplesPerPixel) == 3:
        region = a[..., y:y + h, x:x + w, :]
    else:
        region = a[..., y:y + h, x:x + w]
    print(json.dumps({
        "transfer_syntax": str(ds.file_meta.TransferSyntaxUID),
        "photometric": str(ds.PhotometricInterpretation),
        "shape": [int(n) for n in a.shape],
        "region_max": int(region.max()),
        "sum": int(a.astype("int64").sum()),
    }))


if __name__ == "__main__":
    main()
