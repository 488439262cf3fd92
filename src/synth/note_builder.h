#pragma once

// Internal to synth: builds a note's text while recording where its PHI lands, in code points.

#include <string>
#include <string_view>
#include <vector>

#include "caliper/synth/synthetic.h"
#include "synth/utf8.h"

namespace caliper::synth {

class NoteBuilder {
 public:
  NoteBuilder& Text(std::string_view s) {
    text_ += s;
    code_points_ += CountCodePoints(s);
    return *this;
  }
  NoteBuilder& Phi(std::string_view s, PhiType type) {
    const std::size_t start = code_points_;
    Text(s);
    phi_.push_back({start, code_points_, type});
    return *this;
  }
  std::string TakeText() { return std::move(text_); }
  std::vector<PhiSpan> TakePhi() { return std::move(phi_); }

 private:
  std::string text_;
  std::size_t code_points_ = 0;
  std::vector<PhiSpan> phi_;
};

}  // namespace caliper::synth
