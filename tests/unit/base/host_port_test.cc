#include "base/host_port.h"

#include <gtest/gtest.h>

#include <string>

namespace causeway {
namespace {

HostPort Parse(std::string_view text,
               std::optional<uint16_t> default_port = std::nullopt) {
  HostPort out;
  Status s = ParseHostPort(text, &out, default_port);
  EXPECT_TRUE(s.ok()) << text << ": " << s.ToString();
  return out;
}

std::string Error(std::string_view text,
                  std::optional<uint16_t> default_port = std::nullopt) {
  HostPort out;
  out.host = "untouched";
  Status s = ParseHostPort(text, &out, default_port);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << text;
  EXPECT_EQ(out.host, "untouched") << text;
  return s.message();
}

TEST(HostPortTest, HostAndPort) {
  HostPort a = Parse("127.0.0.1:8087");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8087);
  a = Parse("db.example:1");
  EXPECT_EQ(a.host, "db.example");
  EXPECT_EQ(a.port, 1);
  a = Parse("h:65535");
  EXPECT_EQ(a.port, 65535);
  a = Parse("h:00080");  // five digits at most, leading zeros allowed
  EXPECT_EQ(a.port, 80);
}

TEST(HostPortTest, BracketedIpv6) {
  HostPort a = Parse("[::1]:9000");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 9000);
  a = Parse("[fe80::1%eth0]:1", 5);
  EXPECT_EQ(a.host, "fe80::1%eth0");
  EXPECT_EQ(a.port, 1);
}

TEST(HostPortTest, WithoutBracketsThePortFollowsTheLastColon) {
  HostPort a = Parse("::1:8287");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 8287);
}

TEST(HostPortTest, ADefaultPortMakesThePortOptional) {
  HostPort a = Parse("localhost", 8087);
  EXPECT_EQ(a.host, "localhost");
  EXPECT_EQ(a.port, 8087);
  a = Parse("[::1]", 8087);
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 8087);
  // Several colons and no brackets: a bare IPv6 address.
  a = Parse("::1", 8087);
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 8087);
  a = Parse("h:9", 8087);
  EXPECT_EQ(a.host, "h");
  EXPECT_EQ(a.port, 9);
}

TEST(HostPortTest, RefusesBadShapesAndPorts) {
  for (std::optional<uint16_t> default_port :
       {std::optional<uint16_t>(), std::optional<uint16_t>(8087)}) {
    for (const char* bad :
         {"", ":8087", "host:", "host:0", "host:65536", "host:80x", "host:-1",
          "host:+80", "host: 80", "host:000080", "[::1", "[::1]x", "[]:80",
          "[::1]:", "[]"}) {
      Error(bad, default_port);
    }
  }
  EXPECT_EQ(Error(""), "empty");
  EXPECT_EQ(Error("host:"), "empty port");
  EXPECT_EQ(Error(":80"), "empty host");
  EXPECT_EQ(Error("[::1"), "missing ']'");
  EXPECT_EQ(Error("[::1]x"), "junk after ']'");
  EXPECT_EQ(Error("host:0"), "port must be a number from 1 to 65535");
}

TEST(HostPortTest, APortIsRequiredUnlessDefaulted) {
  EXPECT_EQ(Error("localhost"), "no port");
  EXPECT_EQ(Error("[::1]"), "no port");
}

TEST(HostPortTest, Format) {
  EXPECT_EQ(FormatHostPort("127.0.0.1", 8087), "127.0.0.1:8087");
  EXPECT_EQ(FormatHostPort("node.example", 1), "node.example:1");
  EXPECT_EQ(FormatHostPort("::1", 8287), "[::1]:8287");
  EXPECT_EQ(FormatHostPort("[::1]", 8287), "[::1]:8287");
  // What Format writes, Parse reads back.
  HostPort a = Parse(FormatHostPort("fe80::2", 7));
  EXPECT_EQ(a.host, "fe80::2");
  EXPECT_EQ(a.port, 7);
}

}  // namespace
}  // namespace causeway
