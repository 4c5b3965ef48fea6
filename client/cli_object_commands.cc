// Commands on objects and listings: ping, info, get, put, delete, list-keys,
// list-buckets, preflist.

#include <CLI/CLI.hpp>
#include <cctype>
#include <fstream>
#include <istream>
#include <memory>
#include <ostream>
#include <utility>
#include <vector>

#include "client/cli_commands.h"
#include "client/format.h"

namespace causeway::client::cli {
namespace {

// A boolean request flag that is sent only when given (--notfound-ok or
// --notfound-ok=false), so the bucket's own setting applies otherwise.
struct OptionalFlag {
  bool value = false;
  CLI::Option* option = nullptr;
  bool given() const { return option != nullptr && option->count() > 0; }
};

void AddOptionalFlag(CLI::App* app, const std::string& name, OptionalFlag* flag,
                     const std::string& help) {
  flag->option = app->add_flag(name, flag->value, help + " (=false to unset)");
}

struct ReadQuorums {
  std::optional<uint32_t> r, pr;
  OptionalFlag notfound_ok, basic_quorum;

  void Add(CLI::App* app) {
    AddQuorumOption(app, "--r", &r, "replicas that must answer the read");
    AddQuorumOption(app, "--pr", &pr,
                    "primary replicas that must answer the read");
    AddOptionalFlag(app, "--notfound-ok", &notfound_ok,
                    "count a replica's not-found as an answer");
    AddOptionalFlag(app, "--basic-quorum", &basic_quorum,
                    "stop early when a majority say not found");
  }
  void ApplyTo(pbc::RpbGetReq* req) const {
    if (r) req->set_r(*r);
    if (pr) req->set_pr(*pr);
    if (notfound_ok.given()) req->set_notfound_ok(notfound_ok.value);
    if (basic_quorum.given()) req->set_basic_quorum(basic_quorum.value);
  }
};

pbc::RpbGetReq MakeGetReq(CliContext& ctx, const std::string& bucket,
                          const std::string& key) {
  pbc::RpbGetReq req;
  req.set_bucket(bucket);
  req.set_key(key);
  req.set_type(ctx.type());
  if (auto ms = ctx.request_timeout_ms()) req.set_timeout(*ms);
  return req;
}

// A get whose every sibling is a tombstone is, to a user, not found.
bool AllDeleted(const pbc::RpbGetResp& resp) {
  for (const pbc::RpbContent& c : resp.content()) {
    if (!c.deleted()) return false;
  }
  return true;
}

// Reads the causal context of bucket/key for a following write: the
// object's vclock, a tombstone's, or none. NotFound is not an error here.
Status FetchContext(CliContext& ctx, Client* client, const std::string& bucket,
                    const std::string& key, const ReadQuorums* quorums,
                    std::string* vclock, bool* found) {
  pbc::RpbGetReq req = MakeGetReq(ctx, bucket, key);
  // Only the context is needed, not the values.
  req.set_head(true);
  req.set_deletedvclock(true);
  if (quorums != nullptr) quorums->ApplyTo(&req);
  pbc::RpbGetResp resp;
  Status s = client->Get(req, &resp);
  if (!s.ok() && !s.IsNotFound()) return s;
  *found = s.ok() && !AllDeleted(resp);
  vclock->clear();
  if (resp.has_vclock()) *vclock = resp.vclock();
  return Status::Ok();
}

// Reads all of stdin, refusing more than `limit` bytes.
bool ReadAllInput(std::istream& in, size_t limit, std::string* out) {
  out->clear();
  char buf[64 * 1024];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    out->append(buf, static_cast<size_t>(in.gcount()));
    if (out->size() > limit) return false;
  }
  return true;
}

void PrintObject(CliContext& ctx, const Contents& contents,
                 const std::string& vclock, bool has_vclock, bool show_vclock) {
  if (ctx.json()) {
    ctx.out() << RenderObjectJson(true, contents, vclock, has_vclock) << "\n";
  } else {
    // The context goes to stderr, so stdout carries exactly the value.
    if (show_vclock) {
      ctx.err() << "vclock: " << (has_vclock ? Base64Encode(vclock) : "")
                << "\n";
    }
    ObjectTextOptions options;
    options.terminal = ctx.io().out_is_terminal;
    ctx.out() << RenderObjectText(contents, options);
  }
}

// An empty key cannot be read or deleted, and a put with one would have
// the node make up a key: all usage errors (a put asks for a node-made key
// with --server-key).
bool EmptyKey(CliContext& ctx, const std::string& key, int* code) {
  if (!key.empty()) return false;
  *code = ctx.UsageError(
      "the key is empty (for a put with a key made by the node, use "
      "put --server-key BUCKET VALUE)");
  return true;
}

// The content type of a value read from `path`, by its extension.
std::string ContentTypeOfFile(const std::string& path) {
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {"json", "application/json"},
      {"txt", "text/plain"},
      {"text", "text/plain"},
      {"html", "text/html"},
      {"htm", "text/html"},
      {"xml", "application/xml"},
      {"csv", "text/csv"},
      {"css", "text/css"},
      {"js", "application/javascript"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"webp", "image/webp"},
      {"pdf", "application/pdf"},
      {"gz", "application/gzip"},
      {"zip", "application/zip"},
  };
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

void PrintOk(CliContext& ctx) {
  if (ctx.json()) ctx.out() << "{\"ok\":true}\n";
}

// --- ping, info -------------------------------------------------------------

int RunPing(CliContext& ctx) {
  Client* client;
  Status s = ctx.GetClient(&client);
  if (s.ok()) s = client->Ping();
  if (!s.ok()) return ctx.Fail(s);
  ctx.out() << (ctx.json() ? "{\"ok\":true}" : "pong") << "\n";
  return kExitOk;
}

int RunInfo(CliContext& ctx) {
  Client* client;
  Status s = ctx.GetClient(&client);
  pbc::RpbGetServerInfoResp info;
  if (s.ok()) s = client->GetServerInfo(&info);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    JsonObject o;
    if (info.has_node()) o.Raw("node", JsonName(info.node()));
    if (info.has_server_version()) {
      o.Raw("server_version", JsonName(info.server_version()));
    }
    ctx.out() << o.str() << "\n";
  } else {
    ctx.out() << "node: " << info.node() << "\n"
              << "server_version: " << info.server_version() << "\n";
  }
  return kExitOk;
}

// --- get
// ----------------------------------------------------------------------

struct GetOptions {
  std::string bucket, key;
  ReadQuorums quorums;
  bool show_vclock = false;
};

int RunGet(CliContext& ctx, const GetOptions& o) {
  if (int code; EmptyKey(ctx, o.key, &code)) return code;
  Client* client;
  Status s = ctx.GetClient(&client);
  if (!s.ok()) return ctx.Fail(s);
  pbc::RpbGetReq req = MakeGetReq(ctx, o.bucket, o.key);
  o.quorums.ApplyTo(&req);
  pbc::RpbGetResp resp;
  s = client->Get(req, &resp);
  if (!s.ok() && !s.IsNotFound()) return ctx.Fail(s);
  if (!s.ok() || AllDeleted(resp)) {
    if (ctx.json()) {
      ctx.out() << RenderObjectJson(false, Contents(), resp.vclock(),
                                    resp.has_vclock())
                << "\n";
    }
    ctx.err() << "causeway: not found: " << o.bucket << "/" << o.key << "\n";
    return kExitNotFound;
  }
  PrintObject(ctx, resp.content(), resp.vclock(), resp.has_vclock(),
              o.show_vclock);
  return kExitOk;
}

// --- put
// ----------------------------------------------------------------------

struct PutOptions {
  std::string bucket, key, value;
  CLI::Option* key_option = nullptr;
  CLI::Option* value_option = nullptr;
  std::string file;
  CLI::Option* file_option = nullptr;
  bool server_key = false;
  std::string content_type = "text/plain";
  CLI::Option* content_type_option = nullptr;
  std::optional<uint32_t> w, dw, pw;
  bool blind = false;
  std::string vclock_b64;
  CLI::Option* vclock_option = nullptr;
  bool return_body = false;
};

// Reads the value of a put: from --file, stdin (-) or the argument.
// Returns 0 or the exit status of a usage error.
int ReadPutValue(CliContext& ctx, const PutOptions& o, bool from_file,
                 std::string* value, std::string* content_type) {
  const size_t limit = pbc::kDefaultMaxFrameBytes;
  if (from_file) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) return ctx.UsageError("--file: cannot read '" + o.file + "'");
    if (!ReadAllInput(in, limit, value) || in.bad()) {
      return ctx.UsageError(
          in.bad() ? "--file: cannot read '" + o.file + "'"
                   : "--file: '" + o.file + "' is larger than the " +
                         std::to_string(limit) + "-byte frame limit");
    }
    if (o.content_type_option->count() == 0) {
      *content_type = ContentTypeOfFile(o.file);
    }
    return 0;
  }
  if (*value == "-") {
    if (!ReadAllInput(*ctx.io().in, limit, value)) {
      return ctx.UsageError("value on stdin is larger than the " +
                            std::to_string(limit) + "-byte frame limit");
    }
  }
  return 0;
}

int RunPut(CliContext& ctx, const PutOptions& o) {
  // The words after the bucket: KEY VALUE, KEY with --file, VALUE with
  // --server-key, nothing with both.
  const bool from_file = o.file_option->count() > 0;
  std::vector<std::string> words;
  if (o.key_option->count() > 0) words.push_back(o.key);
  if (o.value_option->count() > 0) words.push_back(o.value);
  const size_t wanted = (o.server_key ? 0 : 1) + (from_file ? 0 : 1);
  if (words.size() != wanted) {
    std::string expected = "put BUCKET";
    if (!o.server_key) expected += " KEY";
    if (!from_file) expected += " VALUE";
    if (o.server_key) expected += " --server-key";
    if (from_file) expected += " --file PATH";
    return ctx.UsageError("expected `" + expected + "`, got " +
                          std::to_string(words.size()) +
                          " words after the bucket");
  }
  std::string key = o.server_key ? "" : words[0];
  std::string value = from_file ? "" : words.back();
  if (!o.server_key) {
    if (int code; EmptyKey(ctx, key, &code)) return code;
  }
  std::string content_type = o.content_type;
  if (int code = ReadPutValue(ctx, o, from_file, &value, &content_type)) {
    return code;
  }
  std::string vclock;
  bool have_vclock = false;
  if (o.vclock_option->count() > 0) {
    Status s = Base64Decode(o.vclock_b64, &vclock);
    if (!s.ok()) return ctx.UsageError("--vclock: " + s.message());
    have_vclock = true;
  }
  Client* client;
  Status s = ctx.GetClient(&client);
  if (!s.ok()) return ctx.Fail(s);
  const std::string name = o.bucket + "/" + key;
  if (!o.blind && !have_vclock && !o.server_key) {
    // Writing with the current context makes the new value replace what is
    // there (siblings included) instead of adding a sibling next to it.
    bool found = false;
    s = FetchContext(ctx, client, o.bucket, key, nullptr, &vclock, &found);
    if (!s.ok()) {
      return ctx.Fail(s, "put of " + name +
                             " failed while reading the current value "
                             "(nothing was written; --blind skips the "
                             "read): " +
                             s.message());
    }
    have_vclock = !vclock.empty();
  }
  pbc::RpbPutReq req;
  req.set_bucket(o.bucket);
  if (!o.server_key) req.set_key(key);
  req.set_type(ctx.type());
  if (have_vclock) req.set_vclock(vclock);
  req.mutable_content()->set_value(std::move(value));
  req.mutable_content()->set_content_type(content_type);
  if (o.w) req.set_w(*o.w);
  if (o.dw) req.set_dw(*o.dw);
  if (o.pw) req.set_pw(*o.pw);
  if (o.return_body) req.set_return_body(true);
  if (auto ms = ctx.request_timeout_ms()) req.set_timeout(*ms);
  pbc::RpbPutResp resp;
  s = client->Put(req, &resp);
  if (!s.ok()) return ctx.Fail(s, ctx.WriteFailure(s, "put"));
  if (o.server_key) {
    // The node made the key: it is the one thing the caller cannot know.
    if (o.return_body || ctx.json()) {
      ctx.err() << "causeway: stored under key " << resp.key() << "\n";
    }
    if (!o.return_body) {
      ctx.out() << (ctx.json() ? JsonObject()
                                     .Bool("ok", true)
                                     .Raw("key", JsonName(resp.key()))
                                     .str()
                               : resp.key())
                << "\n";
      return kExitOk;
    }
  }
  if (o.return_body) {
    PrintObject(ctx, resp.content(), resp.vclock(), resp.has_vclock(), false);
  } else {
    PrintOk(ctx);
  }
  return kExitOk;
}

// --- delete
// -------------------------------------------------------------------

struct DeleteOptions {
  std::string bucket, key;
  ReadQuorums read;
  std::optional<uint32_t> rw, w, pw, dw;
  std::string vclock_b64;
  CLI::Option* vclock_option = nullptr;
};

int RunDelete(CliContext& ctx, const DeleteOptions& o) {
  if (int code; EmptyKey(ctx, o.key, &code)) return code;
  std::string vclock;
  bool have_vclock = false;
  if (o.vclock_option->count() > 0) {
    Status s = Base64Decode(o.vclock_b64, &vclock);
    if (!s.ok()) return ctx.UsageError("--vclock: " + s.message());
    have_vclock = true;
  }
  Client* client;
  Status s = ctx.GetClient(&client);
  if (!s.ok()) return ctx.Fail(s);
  if (!have_vclock) {
    // A delete with the current context removes exactly what was read.
    bool found = false;
    s = FetchContext(ctx, client, o.bucket, o.key, &o.read, &vclock, &found);
    if (!s.ok()) {
      return ctx.Fail(s, "delete of " + o.bucket + "/" + o.key +
                             " failed while reading the current value "
                             "(nothing was deleted): " +
                             s.message());
    }
    if (!found) return ctx.Fail(Status::NotFound(o.bucket + "/" + o.key));
    have_vclock = !vclock.empty();
  }
  pbc::RpbDelReq req;
  req.set_bucket(o.bucket);
  req.set_key(o.key);
  req.set_type(ctx.type());
  if (have_vclock) req.set_vclock(vclock);
  if (o.rw) req.set_rw(*o.rw);
  if (o.read.r) req.set_r(*o.read.r);
  if (o.read.pr) req.set_pr(*o.read.pr);
  if (o.w) req.set_w(*o.w);
  if (o.pw) req.set_pw(*o.pw);
  if (o.dw) req.set_dw(*o.dw);
  if (auto ms = ctx.request_timeout_ms()) req.set_timeout(*ms);
  s = client->Delete(req);
  if (!s.ok()) return ctx.Fail(s, ctx.WriteFailure(s, "delete"));
  PrintOk(ctx);
  return kExitOk;
}

// --- listings
// -----------------------------------------------------------------

// Prints names one per line as they arrive; with --json collects them into
// {"<field>":[...]}.
class NamePrinter {
 public:
  NamePrinter(CliContext& ctx, std::string field)
      : ctx_(ctx), field_(std::move(field)) {}
  Client::NameCallback callback() {
    return [this](const std::string& name) {
      if (ctx_.json()) {
        names_.push_back(JsonName(name));
      } else {
        ctx_.out() << name << "\n";
      }
    };
  }
  void Finish() {
    if (ctx_.json()) {
      ctx_.out() << JsonObject().Raw(field_, JsonArray(names_)).str() << "\n";
    }
  }

 private:
  CliContext& ctx_;
  std::string field_;
  std::vector<std::string> names_;
};

int RunListKeys(CliContext& ctx, const std::string& bucket) {
  Client* client;
  Status s = ctx.GetClient(&client);
  if (!s.ok()) return ctx.Fail(s);
  pbc::RpbListKeysReq req;
  req.set_bucket(bucket);
  req.set_type(ctx.type());
  if (auto ms = ctx.request_timeout_ms()) req.set_timeout(*ms);
  NamePrinter printer(ctx, "keys");
  s = client->ListKeys(req, printer.callback());
  if (!s.ok()) return ctx.Fail(s);
  printer.Finish();
  return kExitOk;
}

int RunListBuckets(CliContext& ctx) {
  Client* client;
  Status s = ctx.GetClient(&client);
  if (!s.ok()) return ctx.Fail(s);
  pbc::RpbListBucketsReq req;
  req.set_stream(true);
  req.set_type(ctx.type());
  if (auto ms = ctx.request_timeout_ms()) req.set_timeout(*ms);
  NamePrinter printer(ctx, "buckets");
  s = client->ListBuckets(req, printer.callback());
  if (!s.ok()) return ctx.Fail(s);
  printer.Finish();
  return kExitOk;
}

int RunPreflist(CliContext& ctx, const std::string& bucket,
                const std::string& key) {
  if (int code; EmptyKey(ctx, key, &code)) return code;
  Client* client;
  Status s = ctx.GetClient(&client);
  if (!s.ok()) return ctx.Fail(s);
  pbc::RpbGetBucketKeyPreflistReq req;
  req.set_bucket(bucket);
  req.set_key(key);
  req.set_type(ctx.type());
  pbc::RpbGetBucketKeyPreflistResp resp;
  s = client->GetPreflist(req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  ctx.out() << (ctx.json() ? RenderPreflistJson(resp) + "\n"
                           : RenderPreflistText(resp));
  return kExitOk;
}

// Makes the subcommand's callback select `run` as the action.
template <typename Options>
void OnSelected(CLI::App* sub, CliContext& ctx,
                std::shared_ptr<Options> options,
                int (*run)(CliContext&, const Options&)) {
  sub->callback([&ctx, options, run] {
    ctx.action = [&ctx, options, run] { return run(ctx, *options); };
  });
}

}  // namespace

void AddPingCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* sub = app.add_subcommand("ping", "check that the node answers");
  sub->callback([&ctx] { ctx.action = [&ctx] { return RunPing(ctx); }; });
}

void AddInfoCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* sub =
      app.add_subcommand("info", "show the node's name and server version");
  sub->callback([&ctx] { ctx.action = [&ctx] { return RunInfo(ctx); }; });
}

void AddGetCommand(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<GetOptions>();
  CLI::App* sub = app.add_subcommand(
      "get",
      "print a value (raw bytes); siblings are printed numbered; exit 1 if "
      "not found");
  sub->add_option("bucket", o->bucket, "bucket")->required();
  sub->add_option("key", o->key, "key (not empty)")->required();
  o->quorums.Add(sub);
  sub->add_flag("--vclock", o->show_vclock,
                "also print the causal context (base64) on stderr, or as "
                "\"vclock\" with --json; stdout keeps only the value");
  OnSelected(sub, ctx, o, RunGet);
}

void AddPutCommand(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<PutOptions>();
  CLI::App* sub = app.add_subcommand(
      "put",
      "store a value, replacing the current one (read first for its "
      "context): put BUCKET KEY VALUE, put BUCKET KEY --file PATH, or "
      "put BUCKET --server-key VALUE. A put that fails for w, pw or dw "
      "may still have been applied on some replicas");
  sub->add_option("bucket", o->bucket, "bucket")->required();
  o->key_option = sub->add_option("key", o->key, "key (not empty)");
  o->value_option = sub->add_option(
      "value", o->value, "the value, or - to read stdin (not with --file)");
  o->file_option = sub->add_option(
      "--file", o->file,
      "read the value from this file; its content type follows the "
      "extension (.json, .txt, .html, .xml, .png, .jpg, ...) unless "
      "--content-type is given");
  sub->add_flag("--server-key", o->server_key,
                "let the node make up the key, and print it (give no KEY)");
  o->content_type_option =
      sub->add_option("--content-type", o->content_type, "content type")
          ->capture_default_str();
  AddQuorumOption(sub, "--w", &o->w, "replicas that must acknowledge");
  AddQuorumOption(sub, "--dw", &o->dw,
                  "replicas that must write durably before acknowledging");
  AddQuorumOption(sub, "--pw", &o->pw,
                  "primary replicas that must acknowledge");
  CLI::Option* blind = sub->add_flag(
      "--blind", o->blind,
      "write without reading the context first (may create a sibling)");
  o->vclock_option = sub->add_option(
      "--vclock", o->vclock_b64,
      "write with this context (base64, as printed by get --vclock)");
  blind->excludes(o->vclock_option);
  sub->add_flag("--return-body", o->return_body, "print the stored result");
  OnSelected(sub, ctx, o, RunPut);
}

void AddDeleteCommand(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<DeleteOptions>();
  CLI::App* sub = app.add_subcommand(
      "delete",
      "delete a key (read first for its context); exit 1 if not found");
  sub->add_option("bucket", o->bucket, "bucket")->required();
  sub->add_option("key", o->key, "key (not empty)")->required();
  o->read.Add(sub);
  AddQuorumOption(sub, "--rw", &o->rw, "replicas for the delete's read+write");
  AddQuorumOption(sub, "--w", &o->w, "replicas that must acknowledge");
  AddQuorumOption(sub, "--pw", &o->pw,
                  "primary replicas that must acknowledge");
  AddQuorumOption(sub, "--dw", &o->dw,
                  "replicas that must write durably before acknowledging");
  o->vclock_option = sub->add_option(
      "--vclock", o->vclock_b64,
      "delete with this context (base64) instead of reading it first");
  OnSelected(sub, ctx, o, RunDelete);
}

void AddListKeysCommand(CLI::App& app, CliContext& ctx) {
  auto bucket = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand(
      "list-keys", "list every key of a bucket (expensive: walks all data)");
  sub->add_option("bucket", *bucket, "bucket")->required();
  sub->callback([&ctx, bucket] {
    ctx.action = [&ctx, bucket] { return RunListKeys(ctx, *bucket); };
  });
}

void AddListBucketsCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* sub = app.add_subcommand(
      "list-buckets",
      "list the buckets of the bucket type (expensive: walks all data)");
  sub->callback(
      [&ctx] { ctx.action = [&ctx] { return RunListBuckets(ctx); }; });
}

void AddPreflistCommand(CLI::App& app, CliContext& ctx) {
  auto names = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* sub = app.add_subcommand(
      "preflist", "show the partitions and nodes that hold a key");
  sub->add_option("bucket", names->first, "bucket")->required();
  sub->add_option("key", names->second, "key")->required();
  sub->callback([&ctx, names] {
    ctx.action = [&ctx, names] {
      return RunPreflist(ctx, names->first, names->second);
    };
  });
}

}  // namespace causeway::client::cli
