#include "caliper/security/passwords.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "caliper/security/crypto.h"

namespace caliper::security {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::size_t CodePoints(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

Status CheckPasswordPolicy(std::string_view password, std::string_view username, int min_length) {
  // A few of the commonest passwords long enough to pass the length rule.
  static constexpr std::array<std::string_view, 8> kCommon = {
      "password1234", "123456789012", "qwertyuiopas", "passwordpassword",
      "letmein12345", "iloveyou1234", "administrator", "welcome12345"};
  if (CodePoints(password) < static_cast<std::size_t>(min_length)) {
    return Error(ErrorCode::kWeakPassword,
                 "the password must have at least " + std::to_string(min_length) + " characters");
  }
  if (password.size() > 256) {
    return Error(ErrorCode::kWeakPassword, "the password must have at most 256 bytes");
  }
  std::string lower = Lower(password);
  if (!username.empty() && lower.find(Lower(username)) != std::string::npos) {
    return Error(ErrorCode::kWeakPassword, "the password must not contain the username");
  }
  if (std::all_of(password.begin(), password.end(), [&](char c) { return c == password.front(); })) {
    return Error(ErrorCode::kWeakPassword, "the password must not be one repeated character");
  }
  for (auto common : kCommon) {
    if (lower == common) {
      return Error(ErrorCode::kWeakPassword, "the password is too common");
    }
  }
  return Status::Ok();
}

std::string GenerateOneTimePassword() {
  static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  // Rejection sampling keeps every character equally likely.
  constexpr unsigned kLimit = 256 - 256 % kAlphabet.size();
  std::string out;
  int taken = 0;
  while (taken < 20) {
    for (unsigned char b : RandomBytes(32)) {
      if (b >= kLimit || taken == 20) continue;
      if (taken > 0 && taken % 5 == 0) out.push_back('-');
      out.push_back(kAlphabet[b % kAlphabet.size()]);
      ++taken;
    }
  }
  return out;
}

}  // namespace caliper::security
