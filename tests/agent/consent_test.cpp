#include "tether/agent/consent.hpp"

#include <gtest/gtest.h>

namespace tether::agent {
namespace {

using Scopes = std::vector<std::string>;
const Scopes kAsked = {"diagnostics", "shell", "files", "processes", "logs"};

TEST(ConsentAnswer, YesGrantsEverythingAskedAndNoOrNothingRefuses) {
  EXPECT_EQ(parse_consent_answer("y", kAsked), kAsked);
  EXPECT_EQ(parse_consent_answer(" YES ", kAsked), kAsked);
  EXPECT_EQ(parse_consent_answer("", kAsked), Scopes{});
  EXPECT_EQ(parse_consent_answer("n", kAsked), Scopes{});
  EXPECT_EQ(parse_consent_answer("No", kAsked), Scopes{});
}

TEST(ConsentAnswer, NumbersGrantThoseScopesOnceEach) {
  EXPECT_EQ(parse_consent_answer("1 3", kAsked), (Scopes{"diagnostics", "files"}));
  EXPECT_EQ(parse_consent_answer("5,1,5", kAsked), (Scopes{"logs", "diagnostics"}));
  EXPECT_EQ(parse_consent_answer("2", {"diagnostics", "logs"}), (Scopes{"logs"}));
}

TEST(ConsentAnswer, AnythingElseIsAskedAgain) {
  for (const char* answer :
       {"maybe", "0", "6", "1 x", "-1", "1.5", "yes please", "99999999999", ", ,", "y n"}) {
    EXPECT_FALSE(parse_consent_answer(answer, kAsked).has_value()) << answer;
  }
}

TEST(ScopeList, KnownScopesOnly) {
  EXPECT_EQ(parse_scope_list("diagnostics,logs"), (Scopes{"diagnostics", "logs"}));
  EXPECT_EQ(parse_scope_list(" Shell , shell "), (Scopes{"shell"}));
  EXPECT_EQ(parse_scope_list(""), Scopes{});
  EXPECT_FALSE(parse_scope_list("diagnostics,root").has_value());
  EXPECT_EQ(intersect_scopes(kAsked, {"logs", "shell"}), (Scopes{"shell", "logs"}));
}

}  // namespace
}  // namespace tether::agent
