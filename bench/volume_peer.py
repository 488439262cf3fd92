#!/usr/bin/python3
"""The peer of caliper_bench_volume: pydicom + numpy (Debian python3-pydicom, python3-numpy)
build the same volume from the same folder: read every file, sort along the slice normal by
Image Position (Patient), stack, apply Rescale Slope/Intercept to float32. Prints the best
time of REPEAT runs in seconds. Usage: volume_peer.py DIR [REPEAT]"""
import os
import sys
import time

import numpy
import pydicom


def build(folder):
    datasets = [pydicom.dcmread(os.path.join(folder, name)) for name in os.listdir(folder)
                if name.endswith(".dcm")]
    iop = numpy.array(datasets[0].ImageOrientationPatient, dtype=float)
    normal = numpy.cross(iop[:3], iop[3:])
    datasets.sort(key=lambda d: float(numpy.dot(numpy.array(d.ImagePositionPatient, dtype=float), normal)))
    volume = numpy.empty((len(datasets), datasets[0].Rows, datasets[0].Columns), dtype=numpy.float32)
    for k, d in enumerate(datasets):
        volume[k] = d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept)
    return volume


def main():
    folder = sys.argv[1]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        build(folder)
        best = min(best, time.perf_counter() - start)
    print(f"{best:.6f}")


if __name__ == "__main__":
    main()
