#pragma once

#include <string>
#include <string_view>

#include "caliper/common/status.h"

namespace caliper::security {

// The password policy (NIST SP 800-63B flavoured): at least `min_length` code points, at
// most 256 bytes, not containing the username, not one repeated character, and not one of the
// commonest passwords. kWeakPassword with the reason otherwise.
Status CheckPasswordPolicy(std::string_view password, std::string_view username, int min_length);

// A random one-time password that passes the policy: 4 groups of 5 characters from an
// unambiguous alphabet ("k7mqz-...").
std::string GenerateOneTimePassword();

}  // namespace caliper::security
