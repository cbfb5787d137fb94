// `tether-agent enroll`'s pure parts: the device key and its request, the identity sent to
// the relay, and the state directory it leaves behind.
#include "tether/agent/managed/enrollment.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "tether/agent/managed/state_dir.hpp"

namespace tether::agent::managed {
namespace {

namespace fs = std::filesystem;

class ScratchDir {
 public:
  ScratchDir() {
    path_ =
        fs::temp_directory_path() / ("tether-enroll-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

Enrollment sample(const std::string& device) {
  Enrollment e;
  e.state = {"wss://relay.example:8443", "SHA256:" + std::string(64, 'a'), "", device, "lab",
             "2027-02-28T07:36:17Z"};
  e.private_key_pem = "KEY " + device;
  e.certificate_pem = "CERT " + device;
  e.ca_certificate_pem = "CA";
  return e;
}

TEST(DeviceKey, IsP256AndTheRequestIsSignedWithIt) {
  const auto made = make_key_and_request("pc-01");
  EXPECT_EQ(made.private_key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(made.private_key_pem.data(), static_cast<int>(made.private_key_pem.size())),
      BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  ASSERT_TRUE(key);
  EXPECT_TRUE(EVP_PKEY_is_a(key.get(), "EC"));
  char group[32] = {};
  std::size_t length = 0;
  EVP_PKEY_get_utf8_string_param(key.get(), "group", group, sizeof group, &length);
  EXPECT_STREQ(group, "prime256v1");

  std::unique_ptr<BIO, decltype(&BIO_free)> csr_bio(
      BIO_new_mem_buf(made.csr_pem.data(), static_cast<int>(made.csr_pem.size())), BIO_free);
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> request(
      PEM_read_bio_X509_REQ(csr_bio.get(), nullptr, nullptr, nullptr), X509_REQ_free);
  ASSERT_TRUE(request);
  EXPECT_EQ(X509_REQ_verify(request.get(), key.get()), 1);
  // The request carries the public half only.
  EXPECT_EQ(made.csr_pem.find("PRIVATE"), std::string::npos);
  EXPECT_NE(make_key_and_request("pc-01").private_key_pem, made.private_key_pem);
}

TEST(MachineIdentity, ReportsTheCollectorsIdentifiersAsLists) {
  const auto identity = machine_identity(fs::path(TETHER_TEST_DATA_DIR) / "laptop");
  EXPECT_FALSE(identity["hostname"].get<std::string>().empty());
  EXPECT_EQ(identity["machine_id"], "4f8e2a9c1b7d4e6f8a3c5b2d9e1f7a60");
  EXPECT_EQ(identity["smbios_uuid"], "b5a1c0de-2f3e-11b2-a85c-8e5f2ab7c913");
  ASSERT_TRUE(identity["serials"].is_array());
  EXPECT_EQ(identity["serials"][0], "PF3A7K2M");
  EXPECT_EQ(identity["serials"][1], "L1HF1AB02CD");
  ASSERT_TRUE(identity["macs"].is_array());
}

TEST(MachineIdentity, PlaceholderSerialsAreLeftOut) {
  ScratchDir root;
  write(root.path() / "etc/machine-id", "4f8e2a9c1b7d4e6f8a3c5b2d9e1f7a60\n");
  write(root.path() / "etc/os-release", "PRETTY_NAME=\"Test OS 1\"\n");
  write(root.path() / "sys/class/dmi/id/product_serial", "To Be Filled By O.E.M.\n");
  write(root.path() / "sys/class/dmi/id/board_serial", "BOARD-42\n");
  write(root.path() / "sys/class/dmi/id/product_uuid", "03000200-0400-0500-0006-000700080009\n");
  const auto identity = machine_identity(root.path());
  EXPECT_EQ(identity["os"], "Test OS 1");
  EXPECT_EQ(identity["serials"], nlohmann::json::array({"BOARD-42"}));
  EXPECT_EQ(identity["smbios_uuid"], "");
  EXPECT_EQ(identity["macs"], nlohmann::json::array());
}

TEST(StateDir, EverythingIsPrivateAndAgentJsonSaysWhoWeAre) {
  ScratchDir scratch;
  const auto dir = scratch.path() / "state" / "tether-agent";
  EXPECT_FALSE(is_enrolled(dir));
  EXPECT_FALSE(read_state(dir));
  write_enrollment(dir, sample("D-7"), false);
  EXPECT_TRUE(is_enrolled(dir));
  EXPECT_EQ(mode_of(dir), 0700u);
  for (const auto& file : {key_file(dir), certificate_file(dir), ca_file(dir), state_file(dir)}) {
    EXPECT_EQ(mode_of(file), 0600u) << file;
  }
  EXPECT_EQ(read(key_file(dir)), "KEY D-7");
  EXPECT_EQ(read(certificate_file(dir)), "CERT D-7");
  const auto json = nlohmann::json::parse(read(state_file(dir)));
  EXPECT_EQ(json["relay"], "wss://relay.example:8443");
  EXPECT_EQ(json["device"], "D-7");
  EXPECT_EQ(json["group"], "lab");
  EXPECT_FALSE(json.contains("ca"));  // pinned by fingerprint
  const auto state = read_state(dir);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->device, "D-7");
  EXPECT_EQ(state->fingerprint, "SHA256:" + std::string(64, 'a'));
  EXPECT_EQ(state->not_after, "2027-02-28T07:36:17Z");
  // No temporary files left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 4);
}

TEST(StateDir, AnEnrollmentIsReplacedOnlyWithForce) {
  ScratchDir scratch;
  const auto dir = scratch.path() / "state";
  write_enrollment(dir, sample("D-1"), false);
  EXPECT_THROW(write_enrollment(dir, sample("D-2"), false), StateDirError);
  EXPECT_EQ(read(key_file(dir)), "KEY D-1");
  write_enrollment(dir, sample("D-2"), true);
  EXPECT_EQ(read(key_file(dir)), "KEY D-2");
  EXPECT_EQ(read_state(dir)->device, "D-2");
}

TEST(StateDir, AnExistingDirectoryIsMadePrivate) {
  ScratchDir scratch;
  const auto dir = scratch.path() / "open";
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::all);
  write_enrollment(dir, sample("D-3"), false);
  EXPECT_EQ(mode_of(dir), 0700u);
}

TEST(StateDir, ABrokenAgentJsonIsAnErrorNotAnEnrollment) {
  ScratchDir scratch;
  write(state_file(scratch.path()), "{\"relay\": 1}");
  EXPECT_THROW(read_state(scratch.path()), StateDirError);
  write(state_file(scratch.path()), "not json");
  EXPECT_THROW(read_state(scratch.path()), StateDirError);
}

TEST(StateDir, DefaultIsVarLibForRootElseTheUsersStateHome) {
  if (::geteuid() == 0) {
    EXPECT_EQ(default_state_dir(), fs::path("/var/lib/tether-agent"));
  } else {
    ::setenv("XDG_STATE_HOME", "/tmp/xdg-state", 1);
    EXPECT_EQ(default_state_dir(), fs::path("/tmp/xdg-state/tether-agent"));
    ::unsetenv("XDG_STATE_HOME");
    EXPECT_EQ(default_state_dir().filename(), "tether-agent");
    EXPECT_EQ(default_state_dir().parent_path().filename(), "state");
  }
}

}  // namespace
}  // namespace tether::agent::managed
