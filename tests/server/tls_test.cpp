// HTTPS and WSS on the same port as plain HTTP, with a certificate made for the test.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "test_client.hpp"

namespace p2pcdn::testing {
namespace {

namespace fs = std::filesystem;

TEST(Tls, HttpsAndWssOnTheSamePortAsPlain) {
  const fs::path dir = fs::temp_directory_path() / ("p2pcdn-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string make_cert =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " + key +
      " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_cert.c_str()), 0);
  auto config = test_config();
  config.cert_file = cert;
  config.key_file = key;
  RunningServer server(config);
  ASSERT_NE(server.port(), 0);

  WsClient secure(/*tls=*/true);  // trusts the self-signed certificate made just now
  ASSERT_TRUE(secure.connect(server.port()));
  EXPECT_NE(secure.join("https://site.example"), PeerId{});
  secure.send(Heartbeat{5});
  EXPECT_TRUE(secure.read_as<HeartbeatAck>());

  WsClient plain;  // the same port still speaks plain HTTP (e.g. behind a TLS proxy)
  ASSERT_TRUE(plain.connect(server.port()));
  EXPECT_NE(plain.join("https://site.example"), PeerId{});
  fs::remove_all(dir);
}

TEST(Tls, UnreadableCertificateFailsStart) {
  auto config = test_config();
  config.cert_file = "/nonexistent/cert.pem";
  config.key_file = "/nonexistent/key.pem";
  server::SignalServer server(config);
  std::string error;
  EXPECT_EQ(server.start(error), 0);
  EXPECT_NE(error.find("TLS"), std::string::npos);
}

}  // namespace
}  // namespace p2pcdn::testing
