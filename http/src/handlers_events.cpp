// The write side: POST /v1/events (one event or an array, all or nothing), POST
// /v1/events/bulk (NDJSON, per line), POST /v1/admin/snapshot. Each answers only after
// Store::ingest returned, that is after the group commit holding its events was fsynced.
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "core.h"
#include "trove/index/filter.h"

namespace trove::http {
namespace {

// Events per Store::ingest (one fsync) from a bulk body. The Store applies them in slices of
// 1,024 under its write lock (searches wait for a slice, a few ms, not for the whole batch),
// so the batch can be large enough that the fsync is not what limits bulk ingestion.
constexpr size_t kBulkBatch = 8192;
constexpr size_t kMaxListedErrors = 1000;

// Reads the whole body, at most `limit` decoded bytes. False after answering the error.
bool read_body(const httplib::ContentReader& reader, size_t limit, std::string* body,
               httplib::Response& res) {
  bool too_big = false;
  const bool ok = reader([&](const char* d, size_t n) {
    if (body->size() + n > limit) {
      too_big = true;
      return false;
    }
    body->append(d, n);
    return true;
  });
  RequestGuard* g = GuardedServer::current();
  if (!ok || too_big) {
    close_after(res);
    if (too_big || (g && g->body_too_large)) {
      send_error(res, 413, "payload_too_large",
                 fmt::format("the body is over the limit of {} bytes", limit));
    } else if (g && g->timed_out) {
      send_error(res, 408, "request_timeout", "the body did not arrive in time");
    } else {
      send_error(res, 400, "bad_request",
                 "the body could not be read (cut short, or malformed chunked encoding)");
    }
    return false;
  }
  if (g) g->close_after = false;  // all of it was read: the connection may be kept
  return true;
}

// "[i]", built in steps: GCC 12 warns falsely (-Wrestrict) on "[" + std::to_string(i) + "]".
std::string index_path(size_t i) {
  std::string p = "[";
  p += std::to_string(i);
  p += ']';
  return p;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The top-level elements of a JSON array, as text (each is then parsed strictly by
// EventParser); only the array's own structure is checked here.
Status split_array(std::string_view t, std::vector<std::string_view>* out) {
  size_t i = 0;
  while (i < t.size() && is_space(t[i])) ++i;
  if (i == t.size() || t[i] != '[') return Status::invalid("expected a JSON array", "$");
  ++i;
  for (;;) {
    while (i < t.size() && is_space(t[i])) ++i;
    if (i < t.size() && t[i] == ']' && out->empty()) {
      ++i;
      break;
    }
    const size_t start = i;
    int depth = 0;
    bool in_string = false;
    for (; i < t.size(); ++i) {
      const char c = t[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) break;
        --depth;
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    if (i >= t.size()) return Status::invalid("unterminated JSON array", "$");
    size_t end = i;
    while (end > start && is_space(t[end - 1])) --end;
    if (end == start) {
      return Status::invalid("expected an event", index_path(out->size()));
    }
    out->push_back(t.substr(start, end - start));
    if (t[i] == ']') {
      ++i;
      break;
    }
    ++i;  // ','
  }
  while (i < t.size() && is_space(t[i])) ++i;
  if (i != t.size()) return Status::invalid("unexpected text after the array", "$");
  if (out->empty()) return Status::invalid("the array holds no event", "$");
  return Status();
}

// The `"type"` of an event that failed to parse, for the rejected-events metric.
std::optional<EventType> guess_type(std::string_view json) {
  const size_t k = json.find("\"type\"");
  if (k == std::string_view::npos) return std::nullopt;
  size_t i = k + 6;
  while (i < json.size() && is_space(json[i])) ++i;
  if (i >= json.size() || json[i] != ':') return std::nullopt;
  ++i;
  while (i < json.size() && is_space(json[i])) ++i;
  if (i >= json.size() || json[i] != '"') return std::nullopt;
  const size_t end = json.find('"', i + 1);
  if (end == std::string_view::npos || end - i > 64) return std::nullopt;
  return event_type_from_name(json.substr(i + 1, end - i - 1));
}

bool content_type_is(const httplib::Request& req, std::initializer_list<std::string_view> ok) {
  std::string ct = req.get_header_value("Content-Type");
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  for (auto& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto o : ok) {
    if (ct == o) return true;
  }
  return false;
}

// Answers a failed ingest. An unwritable journal is 503: the Store applied nothing of the
// refused batch and cut it from the journal, and tries the journal again on a write after
// its back-off (1 s), so a retry with the same event_ids is safe and may succeed.
void send_ingest_failure(Core&, httplib::Response& res, const Status& st) {
  if (st.code() == StatusCode::kIOError) {
    spdlog::error("ingest failed: {}", st.to_string());
    res.set_header("Retry-After", "1");
    return send_error(res, 503, "journal_unwritable",
                      "the journal cannot be written (disk full or I/O error): none of the "
                      "refused events were applied; retry later with the same event_ids");
  }
  if (st.code() != StatusCode::kInvalidArgument) spdlog::error("ingest failed: {}", st.to_string());
  send_status(res, st);
}

thread_local EventParser tl_parser;

}  // namespace

void handle_events(Core& core, const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& reader) {
  if (!content_type_is(req, {"application/json"})) {
    close_after(res);
    return send_error(res, 415, "unsupported_media_type", "send Content-Type: application/json");
  }
  std::string body;
  if (!read_body(reader, core.opts.limits.max_body_bytes, &body, res)) return;
  size_t first = 0;
  while (first < body.size() && is_space(body[first])) ++first;
  const bool array = first < body.size() && body[first] == '[';
  std::vector<std::string_view> texts;
  if (array) {
    if (Status st = split_array(body, &texts); !st.ok()) return send_status(res, st);
  } else {
    texts.push_back(body);
  }
  std::vector<Event> events;
  events.reserve(texts.size());
  std::vector<EventType> types;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto ev = tl_parser.parse(texts[i]);
    if (ev.ok()) {
      if (Status checked = check_event(*ev); !checked.ok()) ev = checked;
    }
    if (!ev.ok()) {
      core.metrics.event_rejected(guess_type(texts[i]));
      const Status& st = ev.status();
      std::string path = array ? index_path(i) : std::string();
      if (!st.path().empty()) path += (path.empty() ? "" : ".") + st.path();
      return send_error(res, 400, "invalid_argument", st.message(), path.empty() ? "$" : path);
    }
    types.push_back(ev->type());
    events.push_back(std::move(ev).value());
  }
  auto acks = core.the_store().ingest(std::move(events), Store::Origin::kParsed);
  if (!acks.ok()) return send_ingest_failure(core, res, acks.status());
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < acks->size(); ++i) {
    const Ack& a = (*acks)[i];
    if (!a.duplicate) core.metrics.events_accepted(types[i]);
    list.push_back({{"seq", a.seq}, {"duplicate", a.duplicate}});
  }
  if (array) return send_json(res, {{"acks", list}});
  send_json(res, list[0]);
}

namespace {

class BulkIngest {
 public:
  explicit BulkIngest(Core& core) : core_(core) {}

  // Feeds body bytes; false once ingestion failed (the rest is not read). Lines are only
  // split off here; each kBulkBatch of them is parsed and ingested on the ingest lane.
  bool feed(const char* d, size_t n) {
    const char* const end = d + n;
    while (d < end) {
      const auto* nl = static_cast<const char*>(std::memchr(d, '\n', static_cast<size_t>(end - d)));
      const char* stop = nl ? nl : end;
      if (!oversize_) {
        text_.append(d, static_cast<size_t>(stop - d));
        if (text_.size() - line_start_ > ParseLimits::kMaxEventBytes + 1) {
          oversize_ = true;
          text_.resize(line_start_);
        }
      }
      if (!nl) break;
      queue_line();
      if (!fatal_.ok()) return false;
      d = nl + 1;
    }
    return true;
  }

  // After the last byte: the last line (without a newline) and the last batch.
  void finish() {
    if (fatal_.ok() && (oversize_ || text_.size() > line_start_)) queue_line();
    if (fatal_.ok()) drain(true);
  }

  // Commits the complete lines received so far (after the body was cut short).
  void commit_pending() {
    if (fatal_.ok()) drain(true);
  }

  // Adds the counts to an error answer already in `res`.
  void add_counts(httplib::Response& res) const {
    nlohmann::json body = nlohmann::json::parse(res.body);
    body.update(counts());
    send_json(res, body, res.status);
  }

  void answer(httplib::Response& res) const {
    if (!fatal_.ok()) {
      // The lines before the failed batch are durable (counted in `accepted`); none from
      // it on were applied.
      send_ingest_failure(core_, res, fatal_);
      return add_counts(res);
    }
    send_json(res, counts());
  }

 private:
  nlohmann::json counts() const {
    nlohmann::json out = {{"lines", lines_},   {"accepted", accepted_},
                          {"duplicates", duplicates_}, {"rejected", rejected_},
                          {"errors", errors_}, {"errors_truncated", rejected_ > errors_.size()}};
    if (accepted_ > 0) {
      out["first_seq"] = first_seq_;
      out["last_seq"] = last_seq_;
    }
    return out;
  }

  // Queues the complete line (the end of text_ from line_start_, or its oversize mark) for
  // the next drain.
  void queue_line() {
    queued_.emplace_back(line_start_, oversize_ ? kOversize : text_.size() - line_start_);
    line_start_ = text_.size();
    oversize_ = false;
    if (queued_.size() >= kBulkBatch) drain(false);
  }

  // Parses the queued lines and ingests them in batches of kBulkBatch (the last one too when
  // `last`), on the ingest lane: at a lower CPU priority than the reads (ingest_lane.h).
  void drain(bool last) {
    auto work = [&] {
      text_.append(EventParser::kPadding, '\0');  // the parser reads past each line's end
      for (const auto& [at, len] : queued_) {
        line_done(std::string_view(text_).substr(at, len == kOversize ? 0 : len), len == kOversize);
        if (!fatal_.ok()) break;
      }
      if (last && fatal_.ok()) commit();
    };
    if (core_.ingest_lane) {
      core_.ingest_lane->run(work);
    } else {
      work();
    }
    queued_.clear();
    text_.clear();
    line_start_ = 0;
  }

  void line_done(std::string_view t, bool oversize) {
    ++lines_;
    if (!t.empty() && t.back() == '\r') t.remove_suffix(1);
    if (oversize) {
      reject(Status::invalid(fmt::format("event over the limit of {} bytes",
                                         ParseLimits::kMaxEventBytes)),
             std::nullopt);
    } else if (t.find_first_not_of(" \t") == std::string_view::npos) {
      // blank lines are skipped
    } else {
      auto ev = tl_parser.parse_padded(t);
      if (ev.ok()) {
        if (Status checked = check_event(*ev); !checked.ok()) ev = checked;
      }
      if (ev.ok()) {
        types_.push_back(ev->type());
        batch_.push_back(std::move(ev).value());
      } else {
        reject(ev.status(), guess_type(t));
      }
    }
    if (batch_.size() >= kBulkBatch) commit();
  }

  void reject(const Status& st, std::optional<EventType> type) {
    ++rejected_;
    core_.metrics.event_rejected(type);
    if (errors_.size() >= kMaxListedErrors) return;
    nlohmann::json e = {{"line", lines_}, {"code", "invalid_argument"}, {"message", st.message()}};
    if (!st.path().empty()) e["path"] = st.path();
    errors_.push_back(std::move(e));
  }

  void commit() {
    if (batch_.empty()) return;
    auto acks = core_.the_store().ingest_batch(batch_, Store::Origin::kParsed);
    batch_.clear();  // keeps the storage for the next batch
    if (!acks.ok()) {
      fatal_ = acks.status();
      types_.clear();
      return;
    }
    for (size_t i = 0; i < acks->size(); ++i) {
      const Ack& a = (*acks)[i];
      if (a.duplicate) {
        ++duplicates_;
        continue;
      }
      ++accepted_;
      core_.metrics.events_accepted(types_[i]);
      if (first_seq_ == 0) first_seq_ = a.seq;
      last_seq_ = a.seq;
    }
    types_.clear();
  }

  static constexpr size_t kOversize = ~size_t{0};
  Core& core_;
  std::string text_;        // the queued lines, back to back, then the line being received
  size_t line_start_ = 0;   // where the line being received starts in text_
  bool oversize_ = false;   // the line being received is over the limit (its bytes dropped)
  std::vector<std::pair<size_t, size_t>> queued_;  // (start, length or kOversize) in text_
  std::vector<Event> batch_;
  std::vector<EventType> types_;
  uint64_t lines_ = 0, accepted_ = 0, duplicates_ = 0, rejected_ = 0;
  uint64_t first_seq_ = 0, last_seq_ = 0;
  nlohmann::json errors_ = nlohmann::json::array();
  Status fatal_;
};

}  // namespace

void handle_events_bulk(Core& core, const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader& reader) {
  if (!content_type_is(req, {"application/x-ndjson", "application/jsonl", "application/json",
                             "text/plain"})) {
    close_after(res);
    return send_error(res, 415, "unsupported_media_type",
                      "send Content-Type: application/x-ndjson (one event per line)");
  }
  const size_t limit = core.opts.limits.max_bulk_bytes;
  BulkIngest bulk(core);
  size_t total = 0;
  bool too_big = false;
  bool stopped = false;
  const bool ok = reader([&](const char* d, size_t n) {
    total += n;
    if (total > limit) {
      too_big = true;
      return false;
    }
    if (!bulk.feed(d, n)) {
      stopped = true;
      return false;
    }
    return true;
  });
  RequestGuard* g = GuardedServer::current();
  if (stopped) {
    close_after(res);
    return bulk.answer(res);
  }
  if (!ok || too_big) {
    // The complete lines received are kept; the counts say how far it got.
    close_after(res);
    bulk.commit_pending();
    if (too_big || (g && g->body_too_large)) {
      send_error(res, 413, "payload_too_large",
                 fmt::format("the body is over the limit of {} bytes; the complete lines "
                             "before it were processed",
                             limit));
    } else if (g && g->timed_out) {
      send_error(res, 408, "request_timeout", "the body did not arrive in time");
    } else {
      send_error(res, 400, "bad_request", "the body could not be read");
    }
    return bulk.add_counts(res);
  }
  if (g) g->close_after = false;
  bulk.finish();
  bulk.answer(res);
}

void handle_admin_snapshot(Core& core, const httplib::Request&, httplib::Response& res,
                           const httplib::ContentReader& reader) {
  std::string body;
  if (!read_body(reader, core.opts.limits.max_body_bytes, &body, res)) return;
  auto info = core.the_store().snapshot();
  if (!info.ok()) {
    spdlog::error("snapshot failed: {}", info.status().to_string());
    return send_status(res, info.status());
  }
  const std::string file = info->path.substr(info->path.find_last_of('/') + 1);
  spdlog::info("snapshot written: {} (seq {}, {} bytes)", file, info->seq, info->bytes);
  send_json(res, {{"seq", info->seq}, {"file", file}, {"bytes", info->bytes}});
}

// Delete by filter: the filter is resolved against the State as the request is read, and each
// item it matches is removed by its own ItemRemove, so the journal holds every removed id and
// a replay removes exactly those (an item added afterwards that matches stays). Batches of
// kDeleteBatch events, each durable before the next; a failure stops there, and the answer
// says how many were removed before it.
void handle_items_delete_by_filter(Core& core, const httplib::Request& req,
                                   httplib::Response& res, const httplib::ContentReader& reader) {
  constexpr size_t kDeleteBatch = 8192;
  if (!content_type_is(req, {"application/json"})) {
    close_after(res);
    return send_error(res, 415, "unsupported_media_type", "send Content-Type: application/json");
  }
  std::string body;
  if (!read_body(reader, core.opts.limits.max_body_bytes, &body, res)) return;
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return send_error(res, 400, "invalid_argument", "expected a JSON object", "$");
  for (const auto& [key, value] : j.items()) {
    if (key != "filter") return send_error(res, 400, "invalid_argument", "unknown field", key.substr(0, 64));
  }
  if (!j.contains("filter") || !j["filter"].is_string() || j["filter"].get<std::string>().empty()) {
    return send_error(res, 400, "invalid_argument",
                      "required: the filter of the items to remove (the filter language)", "filter");
  }
  auto filter = Filter::parse(j["filter"].get<std::string>(), "filter");
  if (!filter.ok()) return send_status(res, filter.status());
  Result<std::vector<std::string>> matched = std::vector<std::string>{};
  core.the_store().read([&](const State& st) { matched = matching_ids(st, *filter); });
  if (!matched.ok()) return send_status(res, matched.status());
  const std::vector<std::string>& ids = *matched;
  size_t removed = 0;
  uint64_t seq = 0;
  for (size_t at = 0; at < ids.size(); at += kDeleteBatch) {
    std::vector<Event> events;
    for (size_t i = at; i < std::min(ids.size(), at + kDeleteBatch); ++i) {
      Event e;
      e.body = ItemRemove{ids[i]};
      events.push_back(std::move(e));
    }
    auto acks = core.the_store().ingest(std::move(events));
    if (!acks.ok()) {
      spdlog::error("delete by filter stopped after {} of {} items: {}", removed, ids.size(),
                    acks.status().to_string());
      return send_ingest_failure(core, res, acks.status());
    }
    for (const Ack& a : *acks) {
      core.metrics.events_accepted(EventType::kItemRemove);
      seq = a.seq;
    }
    removed += acks->size();
  }
  spdlog::info("delete by filter: {} items removed ({})", removed, j["filter"].get<std::string>());
  send_json(res, {{"removed", removed}, {"seq", seq}});
}

void handle_admin_train_ease(Core& core, const httplib::Request&, httplib::Response& res,
                             const httplib::ContentReader& reader) {
  std::string body;
  if (!read_body(reader, core.opts.limits.max_body_bytes, &body, res)) return;
  Status st = core.the_reco().train_ease();
  if (!st.ok()) return send_status(res, st);  // 503 while a training runs
  spdlog::info("EASE training started");
  send_json(res, {{"training", true}}, 202);
}

}  // namespace trove::http
