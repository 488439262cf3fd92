#pragma once

// Small readers of DCMTK items that turn absent or malformed values into std::nullopt / "",
// walks over an item's elements and a sequence's items, and the "2.25." UID of a number.
// Internal to src/dicom.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caliper::dicom {

// "2.25." and `value` in decimal (a UID from a 128-bit number, PS3.5 B.2). Split into parts
// below 10^19 and written by 64-bit division: dividing the 128-bit number by 10 digit by digit
// costs a library call a digit.
inline std::string Uid225(unsigned __int128 value) {
  constexpr std::uint64_t kTen19 = 10'000'000'000'000'000'000ULL;
  const auto low = static_cast<std::uint64_t>(value % kTen19);
  value /= kTen19;
  const auto middle = static_cast<std::uint64_t>(value % kTen19);
  const auto high = static_cast<std::uint64_t>(value / kTen19);  // at most 3
  char digits[40];
  char* at = digits + sizeof digits;
  // The digits of `part`, at least `width` of them (zeros in front).
  auto put = [&at](std::uint64_t part, int width) {
    do {
      *--at = static_cast<char>('0' + part % 10);
      part /= 10;
      --width;
    } while (part != 0 || width > 0);
  };
  if (high != 0) {
    put(low, 19);
    put(middle, 19);
    put(high, 1);
  } else if (middle != 0) {
    put(low, 19);
    put(middle, 1);
  } else {
    put(low, 1);
  }
  return "2.25." + std::string(at, digits + sizeof digits);
}

// Calls `visit` with each element of `item`, in order; `visit` must not insert or remove elements
// of `item` itself. DcmItem::getElement(i) walks the element list from its head on every call,
// which makes a loop over it quadratic in the number of elements; nextInContainer steps on from
// the element before.
template <typename Visit>
void ForEachElement(DcmItem& item, Visit visit) {
  for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o)) {
    visit(*static_cast<DcmElement*>(o));
  }
}

// Calls `visit` with each item of `sequence`, in order (as ForEachElement).
template <typename Visit>
void ForEachItem(DcmSequenceOfItems& sequence, Visit visit) {
  for (DcmObject* o = sequence.nextInContainer(nullptr); o != nullptr;
       o = sequence.nextInContainer(o)) {
    visit(*static_cast<DcmItem*>(o));
  }
}

// The top-level elements of an item by tag, for many reads in a row: each DcmItem::findAndGet*
// walks the item's element list from its head (building a DcmStack) where Find is a binary
// search. Borrows the item's elements: valid until an element is inserted into or removed from
// the item (changed values are fine). Not thread-safe against writers of the item.
class ElementIndex {
 public:
  explicit ElementIndex(DcmItem& item) {
    elements_.reserve(item.card());
    ForEachElement(item, [this](DcmElement& e) { elements_.emplace_back(e.getTag(), &e); });
    // DCMTK keeps an item's elements in tag order; sorted anyway, stably, so that Find returns
    // the first of equal tags as the list's search would.
    std::stable_sort(elements_.begin(), elements_.end(),
                     [](const Entry& a, const Entry& b) { return a.first < b.first; });
  }

  // The element `key` names, as DcmItem::findAndGetElement(key, e, false) finds it; null when
  // the item has none (elements inside sequence items are not searched).
  DcmElement* Find(const DcmTagKey& key) const {
    const auto it =
        std::lower_bound(elements_.begin(), elements_.end(), key,
                         [](const Entry& a, const DcmTagKey& k) { return a.first < k; });
    return it != elements_.end() && it->first == key ? it->second : nullptr;
  }

 private:
  using Entry = std::pair<DcmTagKey, DcmElement*>;
  std::vector<Entry> elements_;
};

// `value` without spaces or NULs (DICOM's padding) at either end.
inline std::string_view TrimPadding(std::string_view value) {
  constexpr std::string_view kPadding(" \0", 2);
  const std::size_t first = value.find_first_not_of(kPadding);
  return first == std::string_view::npos ? std::string_view()
                                         : value.substr(first, value.find_last_not_of(kPadding) + 1 - first);
}

// The value of string `element` as stored (all values, padding and NULs kept), without DCMTK's
// normalised copy, which costs some 2,000 instructions a value; "" when it cannot be read.
inline std::string_view StoredValue(DcmElement& element) {
  char* value = nullptr;
  Uint32 length = 0;
  if (element.getString(value, length).bad() || value == nullptr) return {};
  return {value, length};
}

// The whole value of `element` (all values joined by '\') up to its first NUL, without padding
// at either end, as DCMTK's normalised copy (getOFStringArray) gives it; "" when it cannot be
// read. A string stored as one value with no NUL is read as stored: the copy costs some 2,000
// instructions and, for one value, removes no more than TrimPadding does.
inline std::string TrimmedValue(DcmElement& element) {
  if (element.isaString()) {
    const std::string_view value = StoredValue(element);
    if (value.find_first_of(std::string_view("\\\0", 2)) == std::string_view::npos) {
      return std::string(TrimPadding(value));
    }
  }
  OFString value;
  if (element.getOFStringArray(value).bad()) return {};
  return std::string(TrimPadding(value.c_str()));
}

// The whole value (all components joined by '\'), trimmed; "" when absent.
inline std::string GetString(DcmItem& item, const DcmTagKey& key) {
  OFString value;
  if (item.findAndGetOFStringArray(key, value).bad()) return {};
  std::string s = value.c_str();
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// An integer attribute (US, SS, UL, SL or IS), or nullopt.
inline std::optional<int> GetInt(DcmItem& item, const DcmTagKey& key) {
  DcmElement* elem = nullptr;
  if (item.findAndGetElement(key, elem).bad() || elem == nullptr || elem->getVM() == 0) {
    return std::nullopt;
  }
  Sint32 s = 0;
  if (elem->getSint32(s).good()) return s;
  Uint16 u16 = 0;
  if (elem->getUint16(u16).good()) return u16;
  Uint32 u32 = 0;
  if (elem->getUint32(u32).good()) return u32 > 0x7fffffffu ? std::nullopt : std::optional<int>(u32);
  Sint16 s16 = 0;
  if (elem->getSint16(s16).good()) return s16;
  OFString text;
  if (elem->getOFString(text, 0).good()) {
    try {
      std::size_t used = 0;
      const long v = std::stol(text.c_str(), &used);
      if (v >= -0x7fffffffL && v <= 0x7fffffffL) return static_cast<int>(v);
    } catch (...) {
    }
  }
  return std::nullopt;
}

// Every numeric component of a DS/FD/FL attribute, or nullopt when absent or unparsable.
inline std::optional<std::vector<double>> GetDoubles(DcmItem& item, const DcmTagKey& key) {
  DcmElement* elem = nullptr;
  if (item.findAndGetElement(key, elem).bad() || elem == nullptr) return std::nullopt;
  const unsigned long vm = elem->getVM();
  if (vm == 0 || vm > 64) return std::nullopt;
  std::vector<double> out;
  for (unsigned long i = 0; i < vm; ++i) {
    Float64 v = 0;
    if (elem->getFloat64(v, i).bad() || !std::isfinite(v)) return std::nullopt;
    out.push_back(v);
  }
  return out;
}

}  // namespace caliper::dicom
