#!/usr/bin/python3
"""Independent reads of the waveform samples, for the C++ tests to compare against.

  crosscheck.py wfdb DIR RECORD   the header, every signal file (formats 16 and 212, with numpy)
                                  and RECORD.atr when present
  crosscheck.py dicom FILE        pydicom's own decode of the waveform multiplex groups

Prints JSON: per lead the name and the values in mV at a few sample indices, the sample count,
and for WFDB the annotation count with the first annotations. Written apart from the C++
readers (numpy reshapes; pydicom's waveform_array), so a shared mistake is unlikely.
"""
import json
import os
import sys

import numpy as np

PICKS = [0, 1, 2, 3, 1000, 12345]
SYMBOLS = {1: "N", 5: "V", 8: "A", 28: "+"}


def wfdb(folder, record):
    lines = [l.strip() for l in open(os.path.join(folder, record + ".hea")) if l.strip()]
    lines = [l for l in lines if not l.startswith("#")]
    head = lines[0].split()
    nsig, nsamp = int(head[1]), int(head[3])
    sigs = [l.split() for l in lines[1:1 + nsig]]
    files = {}
    for s in sigs:
        files.setdefault(s[0], []).append(s)
    out = {"samples": nsamp, "leads": []}
    values = {}
    for name, group in files.items():
        raw = np.fromfile(os.path.join(folder, name), dtype=np.uint8)
        fmt = group[0][1]
        if fmt == "16":
            flat = raw.view("<i2").astype(np.int64)
        else:  # 212
            triples = raw[: len(raw) // 3 * 3].reshape(-1, 3).astype(np.int64)
            a = triples[:, 0] + ((triples[:, 1] & 0x0F) << 8)
            b = triples[:, 2] + ((triples[:, 1] >> 4) << 8)
            flat = np.empty(2 * len(triples), dtype=np.int64)
            flat[0::2], flat[1::2] = a, b
            flat[flat >= 2048] -= 4096
        frames = flat[: nsamp * len(group)].reshape(nsamp, len(group))
        for k, s in enumerate(group):
            values[id(s)] = frames[:, k]
    for s in sigs:
        gain_field = s[2]
        units = gain_field.split("/")[1] if "/" in gain_field else "mV"
        gain = float(gain_field.split("/")[0].split("(")[0])
        baseline = float(gain_field.split("(")[1].split(")")[0]) if "(" in gain_field else float(s[4])
        scale = {"mV": 1.0, "uV": 1e-3, "V": 1e3}[units]
        d = values[id(s)]
        out["leads"].append({"name": " ".join(s[8:]),
                             "mv": {str(i): (float(d[i]) - baseline) / gain * scale for i in PICKS if i < nsamp}})
    atr = os.path.join(folder, record + ".atr")
    if os.path.exists(atr):
        words = np.fromfile(atr, dtype="<u2")
        t, i, anns = 0, 0, []
        while i < len(words):
            code, data = int(words[i]) >> 10, int(words[i]) & 0x3FF
            i += 1
            if code == 0 and data == 0:
                break
            if code == 59:  # SKIP: high word first
                t += int(np.int32(np.uint32((int(words[i]) << 16) | int(words[i + 1]))))
                i += 2
            elif code == 63:  # AUX: data bytes, padded to a word
                i += (data + 1) // 2
            elif code in (60, 61, 62):
                pass
            else:
                t += data
                anns.append((t, code))
        out["annotation_count"] = len(anns)
        out["beats"] = {SYMBOLS.get(c, str(c)): sum(1 for _, x in anns if x == c) for c in set(x for _, x in anns)}
        out["first_annotations"] = [[s, SYMBOLS.get(c, str(c))] for s, c in anns[:6]]
    return out


def dicom(path):
    import pydicom
    ds = pydicom.dcmread(path)
    groups = []
    for index, group in enumerate(ds.WaveformSequence):
        arr = ds.waveform_array(index)
        units = [ch.ChannelSensitivityUnitsSequence[0].CodeValue for ch in group.ChannelDefinitionSequence]
        scale = [{"mV": 1.0, "uV": 1e-3, "V": 1e3}[u] for u in units]
        names = [ch.ChannelSourceSequence[0].CodeMeaning for ch in group.ChannelDefinitionSequence]
        groups.append({"label": str(group.get("MultiplexGroupLabel", "")),
                       "rate": float(group.SamplingFrequency), "samples": int(group.NumberOfWaveformSamples),
                       "leads": [{"name": names[c],
                                  "mv": {str(i): float(arr[i, c]) * scale[c] for i in PICKS if i < arr.shape[0]}}
                                 for c in range(arr.shape[1])]})
    return {"groups": groups}


if __name__ == "__main__":
    if sys.argv[1] == "wfdb":
        print(json.dumps(wfdb(sys.argv[2], sys.argv[3])))
    else:
        print(json.dumps(dicom(sys.argv[2])))
