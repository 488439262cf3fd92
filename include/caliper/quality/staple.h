#pragma once

// STAPLE: Warfield, Zou & Wells (2004), "Simultaneous truth and performance level estimation
// (STAPLE): an algorithm for the validation of image segmentation", IEEE TMI 23(7):903-921 —
// the binary algorithm (per-rater sensitivity p and specificity q) and its multi-category form
// (per-rater confusion matrices).
//
// The E-step for a voxel depends only on the vector of rater decisions there, so the EM runs
// on a histogram of the distinct decision patterns (at most 2^R for R binary raters) and the
// consensus map is written once at the end: the cost is two passes over the volumes plus
// iterations over a few patterns, instead of iterations over every voxel.
//
// Initialisation and stopping (the same as ITK's STAPLEImageFilter): the consensus W starts
// as each voxel's share of raters voting each label; the label priors are the mean of that
// initial W over the volume and stay fixed (Warfield 2004, section II-D); then M-step and
// E-step alternate until no confusion-matrix entry moves by more than `tolerance`.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/quality/volume.h"

namespace caliper::quality {

struct StapleOptions {
  int max_iterations = 10000;
  double tolerance = 1e-10;  // max absolute change of any p, q or confusion entry
};

struct BinaryStapleResult {
  std::vector<double> sensitivity;  // p_r = P(rater r says 1 | truth 1)
  std::vector<double> specificity;  // q_r = P(rater r says 0 | truth 0)
  double prior = 0;                 // fixed P(truth 1)
  std::vector<float> consensus;     // W: P(truth 1 | decisions) per voxel, same grid
  std::size_t distinct_patterns = 0;
  int iterations = 0;
  bool converged = false;
};

// Binary STAPLE; nonzero voxels are foreground. Errors: kInvalidArgument when fewer than two
// raters, a mask is malformed, grids differ, every voxel of every mask has the same value
// (nothing to estimate), or more than 63 raters.
Result<BinaryStapleResult> StapleBinary(std::span<const MaskView> raters,
                                        const StapleOptions& options = {});

struct MultiLabelStapleResult {
  std::vector<std::uint8_t> labels;  // the label values present, ascending; index = class
  std::vector<double> priors;        // fixed P(truth = labels[s])
  // confusion[r][s * n + t] = P(rater r says labels[t] | truth labels[s]), n = labels.size().
  std::vector<std::vector<double>> confusion;
  std::vector<std::uint8_t> consensus;  // label value of the most probable class per voxel
  std::vector<float> confidence;        // its posterior probability
  std::size_t distinct_patterns = 0;
  int iterations = 0;
  bool converged = false;
};

// Multi-category STAPLE over the label values present in any rater's volume. Ties in the
// consensus go to the lower label. Errors: as StapleBinary; also when fewer than two labels are
// present or labels^raters exceeds 2^63.
Result<MultiLabelStapleResult> StapleMultiLabel(std::span<const MaskView> raters,
                                                const StapleOptions& options = {});

}  // namespace caliper::quality
