#include "fake_pbc_server.h"

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <memory>

#include "bench/pbc_frame.h"
#include "proto/pbc_codes.h"

namespace causeway::bench::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string ErrorFrame(const std::string& message) {
  pbc::RpbErrorResp err;
  err.set_errmsg(message);
  err.set_errcode(static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  std::string out;
  EncodeFrame(pbc::Code::kErrorResp, err, &out);
  return out;
}

std::string ObjectName(const std::string& type, const std::string& bucket,
                       const std::string& key) {
  return type + "/" + bucket + "/" + key;
}

}  // namespace

// Reads frames and writes replies in order until the peer goes away. Plain
// callbacks (not coroutines) keep this independent of the code under test.
class FakePbcServer::Session
    : public std::enable_shared_from_this<FakePbcServer::Session> {
 public:
  Session(FakePbcServer* server, tcp::socket socket)
      : server_(server),
        socket_(std::move(socket)),
        pause_(socket_.get_executor()) {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
  }

  void ReadHeader() {
    auto self = shared_from_this();
    asio::async_read(socket_, asio::buffer(header_),
                     [self](boost::system::error_code ec, size_t) {
                       if (!ec) self->ReadBody();
                     });
  }

 private:
  void ReadBody() {
    uint32_t length = 0;
    if (!DecodeFrameLength(header_, pbc::kDefaultMaxFrameBytes, &length).ok()) {
      return;  // drop the connection
    }
    body_.resize(length);
    auto self = shared_from_this();
    asio::async_read(socket_, asio::buffer(body_),
                     [self](boost::system::error_code ec, size_t) {
                       if (ec) return;
                       auto code = static_cast<uint8_t>(self->body_[0]);
                       std::string_view body(self->body_.data() + 1,
                                             self->body_.size() - 1);
                       self->reply_ = self->server_->Handle(code, body);
                       if (self->reply_.empty()) {
                         self->ReadHeader();  // silent: read on, never answer
                       } else {
                         self->Write();
                       }
                     });
  }

  void Write() {
    if (server_->mode_ == Mode::kTrickle) return Trickle(0);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(reply_),
                      [self](boost::system::error_code ec, size_t) {
                        if (!ec) self->ReadHeader();
                      });
  }

  // Writes reply_ from `offset` in pieces of 3 bytes, each its own segment,
  // so the client sees frames arrive split anywhere.
  void Trickle(size_t offset) {
    if (offset >= reply_.size()) return ReadHeader();
    const size_t n = std::min<size_t>(3, reply_.size() - offset);
    auto self = shared_from_this();
    asio::async_write(
        socket_, asio::buffer(reply_.data() + offset, n),
        [self, offset, n](boost::system::error_code ec, size_t) {
          if (ec) return;
          self->pause_.expires_after(std::chrono::milliseconds(1));
          self->pause_.async_wait([self, offset, n](boost::system::error_code) {
            self->Trickle(offset + n);
          });
        });
  }

  FakePbcServer* server_;
  tcp::socket socket_;
  asio::steady_timer pause_;
  unsigned char header_[pbc::kLengthPrefixBytes];
  std::string body_;
  std::string reply_;
};

FakePbcServer::FakePbcServer(Mode mode)
    : mode_(mode),
      acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  Accept();
  thread_ = std::thread([this] { io_.run(); });
}

FakePbcServer::~FakePbcServer() {
  io_.stop();
  thread_.join();
}

void FakePbcServer::Accept() {
  acceptor_.async_accept(
      [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) return;
        connections_.fetch_add(1);
        std::make_shared<Session>(this, std::move(socket))->ReadHeader();
        Accept();
      });
}

std::string FakePbcServer::Handle(uint8_t code, std::string_view body) {
  switch (mode_) {
    case Mode::kNormal:
    case Mode::kTrickle:
      break;
    case Mode::kErrorAll:
      return ErrorFrame("fake refuses code " + std::to_string(code));
    case Mode::kSilent:
      return {};
    case Mode::kBadFrame:
      return std::string(pbc::kLengthPrefixBytes, '\0');
    case Mode::kWrongCode: {
      std::string out;
      EncodeRawFrame(static_cast<uint8_t>(pbc::Code::kPingResp), {}, &out);
      return out;
    }
  }

  std::string out;
  if (code == static_cast<uint8_t>(pbc::Code::kPutReq)) {
    pbc::RpbPutReq req;
    if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return ErrorFrame("bad RpbPutReq");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      objects_[ObjectName(req.type(), req.bucket(), req.key())] =
          req.content().value();
      last_put_ = req;
    }
    puts_.fetch_add(1);
    EncodeFrame(pbc::Code::kPutResp, pbc::RpbPutResp(), &out);
    return out;
  }
  if (code == static_cast<uint8_t>(pbc::Code::kGetReq)) {
    pbc::RpbGetReq req;
    if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return ErrorFrame("bad RpbGetReq");
    }
    pbc::RpbGetResp resp;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_get_ = req;
      auto it = objects_.find(ObjectName(req.type(), req.bucket(), req.key()));
      if (it != objects_.end()) {
        resp.add_content()->set_value(it->second);
        resp.set_vclock("fake-vclock");
      }
    }
    gets_.fetch_add(1);
    EncodeFrame(pbc::Code::kGetResp, resp, &out);
    return out;
  }
  if (code == static_cast<uint8_t>(pbc::Code::kDtUpdateReq)) {
    pbc::DtUpdateReq req;
    if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return ErrorFrame("bad DtUpdateReq");
    }
    const std::string name = ObjectName(req.type(), req.bucket(), req.key());
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_dt_update_ = req;
      if (req.op().has_counter_op()) {
        counters_[name] += req.op().counter_op().increment();
      } else if (req.op().has_set_op()) {
        for (const std::string& e : req.op().set_op().adds()) {
          sets_[name].insert(e);
        }
      } else {
        return ErrorFrame("fake serves counter and set ops only");
      }
    }
    dt_updates_.fetch_add(1);
    EncodeFrame(pbc::Code::kDtUpdateResp, pbc::DtUpdateResp(), &out);
    return out;
  }
  if (code == static_cast<uint8_t>(pbc::Code::kDtFetchReq)) {
    pbc::DtFetchReq req;
    if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return ErrorFrame("bad DtFetchReq");
    }
    const std::string name = ObjectName(req.type(), req.bucket(), req.key());
    pbc::DtFetchResp resp;
    resp.set_type(pbc::DtFetchResp::COUNTER);
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_dt_fetch_ = req;
      if (auto c = counters_.find(name); c != counters_.end()) {
        resp.mutable_value()->set_counter_value(c->second);
      } else if (auto s = sets_.find(name); s != sets_.end()) {
        resp.set_type(pbc::DtFetchResp::SET);
        for (const std::string& e : s->second) {
          resp.mutable_value()->add_set_value(e);
        }
      }
    }
    dt_fetches_.fetch_add(1);
    EncodeFrame(pbc::Code::kDtFetchResp, resp, &out);
    return out;
  }
  return ErrorFrame("unknown message code " + std::to_string(code));
}

std::map<std::string, std::string> FakePbcServer::Objects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_;
}

pbc::RpbPutReq FakePbcServer::LastPut() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_put_;
}

pbc::RpbGetReq FakePbcServer::LastGet() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_get_;
}

std::map<std::string, int64_t> FakePbcServer::Counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

std::map<std::string, std::set<std::string>> FakePbcServer::Sets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sets_;
}

pbc::DtUpdateReq FakePbcServer::LastDtUpdate() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_dt_update_;
}

pbc::DtFetchReq FakePbcServer::LastDtFetch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_dt_fetch_;
}

}  // namespace causeway::bench::testing
