#!/usr/bin/python3
"""Prints what pydicom (Debian python3-pydicom, with numpy) makes of a colour image's pixel data,
as JSON: Photometric Interpretation, the pixel array's shape and its samples converted to RGB
(pydicom's own YBR_FULL -> RGB conversion; native YBR_FULL_422 is upsampled by pydicom first),
flattened. Run by caliper_dicom_test to cross-check DecodeImage on native YBR_FULL_422.
Usage: pydicom_rgb.py FILE"""
import json
import sys

import pydicom
from pydicom.pixel_data_handlers.util import convert_color_space


def main():
    ds = pydicom.dcmread(sys.argv[1])
    a = ds.pixel_array
    photometric = str(ds.PhotometricInterpretation)
    if photometric.startswith("YBR_FULL"):
        a = convert_color_space(a, "YBR_FULL", "RGB")
    print(json.dumps({
        "photometric": photometric,
        "shape": [int(n) for n in a.shape],
        "rgb": [int(v) for v in a.reshape(-1)],
    }))


if __name__ == "__main__":
    main()
