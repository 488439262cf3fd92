#pragma once

#include <string>
#include <vector>

// Word lists for the synthetic data. This is a test-data generator: the names are common
// given and family names chosen at random, the places are generic town names, the phone
// numbers use the fictional 555-01xx block, e-mail and web addresses use the reserved
// example.* domains (RFC 2606) and IPs the documentation ranges (RFC 5737). Any resemblance
// to a real person is coincidence; nothing here was taken from a record.
namespace caliper::synth::lexicon {

inline const std::vector<std::string>& FemaleGiven() {
  static const std::vector<std::string> k = {"Mary",  "Patricia", "Jennifer", "Linda", "Elizabeth",
                                             "Susan", "Karen",    "Nancy",    "Lisa",  "Margaret"};
  return k;
}
inline const std::vector<std::string>& MaleGiven() {
  static const std::vector<std::string> k = {"James", "John",    "Robert", "Michael", "William",
                                             "David", "Richard", "Thomas", "Charles", "Daniel"};
  return k;
}
inline const std::vector<std::string>& Family() {
  static const std::vector<std::string> k = {"Smith",    "Johnson", "Williams", "Brown",
                                             "Jones",    "Miller",  "Davis",    "Wilson",
                                             "Anderson", "O'Brien"};
  return k;
}
// Non-ASCII names, so that code-point offsets differ from byte offsets.
inline const std::vector<std::string>& FemaleGivenAccented() {
  static const std::vector<std::string> k = {"Zoë", "Chloé", "Renée", "Inés", "Åsa"};
  return k;
}
inline const std::vector<std::string>& MaleGivenAccented() {
  static const std::vector<std::string> k = {"José", "Søren", "André", "Jürgen", "François"};
  return k;
}
inline const std::vector<std::string>& FamilyAccented() {
  static const std::vector<std::string> k = {"Müller",    "Nguyễn", "Gómez",
                                             "Jørgensen", "Çelik",  "Dvořák"};
  return k;
}
inline const std::vector<std::string>& Clinicians() {
  static const std::vector<std::string> k = {"Sarah Chen",     "Michael Brown", "Emily Davis",
                                             "David Wilson",   "Priya Patel",   "Ahmed Hassan",
                                             "Laura Martínez", "Kenji Tanaka"};
  return k;
}

struct Town {
  std::string city;
  std::string state;
  std::string zip;
};
inline const std::vector<Town>& Towns() {
  static const std::vector<Town> k = {{"Springfield", "IL", "62704"}, {"Riverside", "CA", "92501"},
                                      {"Franklin", "TN", "37064"},    {"Greenville", "SC", "29601"},
                                      {"Madison", "WI", "53703"},     {"Salem", "OR", "97301"}};
  return k;
}
inline const std::vector<std::string>& Streets() {
  static const std::vector<std::string> k = {"Oak Street", "Maple Avenue", "Elm Street",
                                             "Cedar Lane", "Pine Road",    "Lakeview Drive"};
  return k;
}
inline const std::vector<std::string>& Clinics() {
  static const std::vector<std::string> k = {
      "Springfield Family Clinic", "Riverside Medical Center", "Lakeside Community Health Center"};
  return k;
}
struct Occupation {
  std::string job;
  std::string employer;
};
inline const std::vector<Occupation>& Occupations() {
  static const std::vector<Occupation> k = {{"teacher", "Lincoln Elementary School"},
                                            {"librarian", "Northside Public Library"},
                                            {"driver", "Blue River Trucking"},
                                            {"sales clerk", "Acme Hardware"}};
  return k;
}
inline const std::vector<std::string>& AreaCodes() {
  static const std::vector<std::string> k = {"217", "312", "415", "617", "206", "608"};
  return k;
}

}  // namespace caliper::synth::lexicon
