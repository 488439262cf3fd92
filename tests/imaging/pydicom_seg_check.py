#!/usr/bin/python3
"""Prints what pydicom (Debian python3-pydicom) reads from a DICOM Segmentation, as JSON:
SOP class, size, frame count, segments with codes and algorithm (type; the Segment Algorithm
Name and the Segmentation Algorithm Identification Sequence's family code, name and version
when present), and per frame its segment
number, Image Position (Patient), referenced source instance and count of set pixels (from
pydicom's own unpacking of the 1-bit pixel data). Run by caliper_dicom_test."""
import json
import sys

import pydicom


def segment(s):
    out = {
        "number": int(s.SegmentNumber),
        "label": str(s.SegmentLabel),
        "algorithm": str(s.SegmentAlgorithmType),
        "category": str(s.SegmentedPropertyCategoryCodeSequence[0].CodeValue),
        "type": str(s.SegmentedPropertyTypeCodeSequence[0].CodeValue),
        "type_scheme": str(s.SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator),
    }
    if "SegmentAlgorithmName" in s:
        out["algorithm_name"] = str(s.SegmentAlgorithmName)
    if "SegmentationAlgorithmIdentificationSequence" in s:
        ident = s.SegmentationAlgorithmIdentificationSequence[0]
        family = ident.AlgorithmFamilyCodeSequence[0]
        out["identification"] = {
            "family": [str(family.CodeValue), str(family.CodingSchemeDesignator), str(family.CodeMeaning)],
            "name": str(ident.AlgorithmName),
            "version": str(ident.AlgorithmVersion),
        }
    return out


def main():
    ds = pydicom.dcmread(sys.argv[1])
    pixels = ds.pixel_array.reshape(int(ds.NumberOfFrames), ds.Rows, ds.Columns)
    shared = ds.SharedFunctionalGroupsSequence[0]
    frames = []
    for n, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        source = item.DerivationImageSequence[0].SourceImageSequence[0]
        frames.append({
            "segment": int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber),
            "position": [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient],
            "source": str(source.ReferencedSOPInstanceUID),
            "set": int(pixels[n].sum()),
        })
    segments = [segment(s) for s in ds.SegmentSequence]
    print(json.dumps({
        "sop_class": str(ds.SOPClassUID),
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "frames": int(ds.NumberOfFrames),
        "frame_of_reference": str(ds.FrameOfReferenceUID),
        "study": str(ds.StudyInstanceUID),
        "orientation": [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient],
        "pixel_spacing": [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing],
        "referenced_series": str(ds.ReferencedSeriesSequence[0].SeriesInstanceUID),
        "referenced_instances": len(ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence),
        "segments": segments,
        "per_frame": frames,
    }))


if __name__ == "__main__":
    main()
