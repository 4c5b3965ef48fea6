#pragma once
// FakePbcServer: an in-process PBC server for testing causeway-bench before a
// real node exists. It listens on 127.0.0.1 (a free port) on its own thread
// and answers RpbPutReq by storing the value and RpbGetReq by returning it;
// DtUpdateReq with a counter_op or a set_op's adds changes a counter or a
// set, and DtFetchReq returns it (whichever the key holds, counter first).
// Other modes misbehave on purpose so the bench's error paths can be tested.
// It keeps what a test wants to check: counts and the last requests.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "proto/riak.pb.h"

namespace causeway::bench::testing {

class FakePbcServer {
 public:
  enum class Mode {
    kNormal,
    kErrorAll,   // every request gets an RpbErrorResp
    kSilent,     // requests are read and never answered
    kBadFrame,   // every reply is a frame of length 0
    kWrongCode,  // every reply is an RpbPingResp
    kTrickle,    // normal replies, written 3 bytes at a time, 1 ms apart
  };

  explicit FakePbcServer(Mode mode = Mode::kNormal);
  ~FakePbcServer();
  FakePbcServer(const FakePbcServer&) = delete;
  FakePbcServer& operator=(const FakePbcServer&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  uint64_t puts() const { return puts_.load(); }
  uint64_t gets() const { return gets_.load(); }
  uint64_t connections() const { return connections_.load(); }
  uint64_t dt_updates() const { return dt_updates_.load(); }
  uint64_t dt_fetches() const { return dt_fetches_.load(); }

  // Stored objects by "type/bucket/key".
  std::map<std::string, std::string> Objects() const;
  pbc::RpbPutReq LastPut() const;
  pbc::RpbGetReq LastGet() const;
  // Counters and sets by "type/bucket/key".
  std::map<std::string, int64_t> Counters() const;
  std::map<std::string, std::set<std::string>> Sets() const;
  pbc::DtUpdateReq LastDtUpdate() const;
  pbc::DtFetchReq LastDtFetch() const;

 private:
  class Session;

  void Accept();
  // Returns the reply frame for one request frame (code byte + body).
  std::string Handle(uint8_t code, std::string_view body);

  const Mode mode_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;

  std::atomic<uint64_t> puts_{0};
  std::atomic<uint64_t> gets_{0};
  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> dt_updates_{0};
  std::atomic<uint64_t> dt_fetches_{0};

  mutable std::mutex mu_;
  std::map<std::string, std::string> objects_;         // guarded by mu_
  pbc::RpbPutReq last_put_;                            // guarded by mu_
  pbc::RpbGetReq last_get_;                            // guarded by mu_
  std::map<std::string, int64_t> counters_;            // guarded by mu_
  std::map<std::string, std::set<std::string>> sets_;  // guarded by mu_
  pbc::DtUpdateReq last_dt_update_;                    // guarded by mu_
  pbc::DtFetchReq last_dt_fetch_;                      // guarded by mu_
};

}  // namespace causeway::bench::testing
