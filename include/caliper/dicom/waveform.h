#pragma once

// DICOM waveforms (PS3.3 C.10.9 Waveform Module; 12-lead ECG, general ECG and other waveform
// storage SOP classes) read into the common waveform model (caliper/waveform/waveform.h).

#include <string>
#include <string_view>

#include "caliper/common/status.h"
#include "caliper/waveform/waveform.h"

namespace caliper::dicom {

// True for the SOP Class UIDs of the waveform storage family ("1.2.840.10008.5.1.4.1.1.9.").
bool IsWaveformSopClass(std::string_view sop_class_uid);

// Reads the Waveform Sequence (5400,0100) of a Part 10 file that has ALREADY been de-identified
// (DicomDeidentifier): nothing of the patient, study or device is read here. The multiplex
// group labelled "RHYTHM" (else the first) becomes the record; every other group (the ECG's
// "MEDIAN BEAT") is kept in extra_groups. Per channel: the name from Channel Label, else the
// Channel Source code meaning without "Lead " and a parenthesised qualifier ("Lead I
// (Einthoven)" -> "I"); mV = (sample + Channel Baseline) x Channel Sensitivity x Channel
// Sensitivity Correction Factor x the unit's mV (the reading pydicom's waveform_array applies);
// Multiplex Group Time Offset (ms) becomes the start offset. Samples of 8 or 16 bits, signed or
// unsigned (SB, UB, SS, US). The Waveform Annotation Sequence (measurements and free-text
// interpretation) is not kept. Errors: kInvalidArgument (not DICOM, no Waveform Sequence,
// inconsistent counts or data length), kUnsupported (mu-law/A-law samples, non-voltage units).
Result<waveform::Waveform> ReadDicomWaveform(std::string_view part10);

}  // namespace caliper::dicom
