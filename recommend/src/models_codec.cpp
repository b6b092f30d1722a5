// RecoModels::encode / decode: the models' whole content as bytes (the payload of a models
// file, models_file.cpp). Little-endian fixed-width integers, doubles as their bits (so a
// decoded model computes exactly what the original would), strings as u32 length + bytes.
// Items and people in index order (indexes are what the rows and histories refer to); rows
// and per-person maps sorted by key, so equal models encode to equal bytes.
//
// What is not written, because it is rebuilt from what is: item_index and person_index (from
// the ids and keys), account_visitors (the inverse of visitor_account: join() writes both
// once), by_user / by_visitor (caches of person_index), and the waiting row updates (made
// before encoding).
#include <cstring>

#include "models_rep.h"

namespace trove {
namespace {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void f64(double v) { raw(&v, 8); }
  void f32(float v) { raw(&v, 4); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

// Reads with bounds checks: the first read past the end (or a count the remaining bytes
// cannot hold) sets failed() and yields zeros, so a damaged payload never reads out of range.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool failed() const { return failed_; }
  bool at_end() const { return pos_ == b_.size(); }
  uint8_t u8() {
    uint8_t v = 0;
    raw(&v, 1);
    return v;
  }
  uint32_t u32() {
    uint32_t v = 0;
    raw(&v, 4);
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    raw(&v, 8);
    return v;
  }
  int64_t i64() {
    int64_t v = 0;
    raw(&v, 8);
    return v;
  }
  double f64() {
    double v = 0;
    raw(&v, 8);
    return v;
  }
  float f32() {
    float v = 0;
    raw(&v, 4);
    return v;
  }
  std::string str() {
    const uint32_t n = u32();
    if (failed_ || n > b_.size() - pos_) {
      failed_ = true;
      return {};
    }
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of elements of at least `min_bytes` each.
  uint32_t count(size_t min_bytes) {
    const uint32_t n = u32();
    if (failed_ || static_cast<uint64_t>(n) * min_bytes > b_.size() - pos_) {
      failed_ = true;
      return 0;
    }
    return n;
  }

 private:
  void raw(void* p, size_t n) {
    if (failed_ || n > b_.size() - pos_) {
      failed_ = true;
      return;
    }
    std::memcpy(p, b_.data() + pos_, n);
    pos_ += n;
  }
  std::string_view b_;
  size_t pos_ = 0;
  bool failed_ = false;
};

void put_options(Writer& w, const RecommendOptions& o) {
  for (double v : {o.view, o.image, o.click, o.list_add, o.cart, o.purchase, o.other, o.rating,
                   o.half_life_days, o.trending_half_life_hours, o.trending_baseline_days}) {
    w.f64(v);
  }
  w.u64(o.window);
  w.u64(o.recent);
  w.u64(o.max_row);
  w.f64(o.damping);
  w.f64(o.repeat_ratio);
  w.f64(o.buy_again);
  w.u8(o.unpersonalized_excluded ? 1 : 0);
  w.f64(o.ease_blend);
}

RecommendOptions get_options(Reader& r) {
  RecommendOptions o;
  for (double* v : {&o.view, &o.image, &o.click, &o.list_add, &o.cart, &o.purchase, &o.other,
                    &o.rating, &o.half_life_days, &o.trending_half_life_hours,
                    &o.trending_baseline_days}) {
    *v = r.f64();
  }
  o.window = r.u64();
  o.recent = r.u64();
  o.max_row = r.u64();
  o.damping = r.f64();
  o.repeat_ratio = r.f64();
  o.buy_again = r.f64();
  o.unpersonalized_excluded = r.u8() != 0;
  o.ease_blend = r.f64();
  return o;
}

template <typename Map>
std::vector<std::pair<typename Map::key_type, typename Map::mapped_type>> sorted(const Map& m) {
  std::vector<std::pair<typename Map::key_type, typename Map::mapped_type>> v(m.begin(), m.end());
  std::sort(v.begin(), v.end());
  return v;
}

void put_row(Writer& w, const Row& row) {
  std::vector<std::pair<uint32_t, double>> v(row.begin(), row.end());
  std::sort(v.begin(), v.end());
  w.u32(static_cast<uint32_t>(v.size()));
  for (const auto& [j, x] : v) {
    w.u32(j);
    w.f64(x);
  }
}

void put_strings(Writer& w, const std::vector<std::string>& v) {
  w.u32(static_cast<uint32_t>(v.size()));
  for (const auto& s : v) w.str(s);
}

std::vector<std::string> get_strings(Reader& r) {
  std::vector<std::string> v(r.count(4));
  for (auto& s : v) s = r.str();
  return v;
}

// The layout's version, first in the file; a file of another version is not used, and the
// models are folded from the journal. 2: a recent item's view flag stays set once viewed
// (version 1 files had no version and other flags); 3: each person's rated items; 4: the
// trending baseline and each item's all-time and per-day weights (popular lists).
constexpr uint32_t kFormat = 4;

}  // namespace

std::string RecoModels::encode() const {
  rep_->make_waiting();
  const Rep& m = *rep_;
  Writer w;
  w.u32(kFormat);
  put_options(w, m.opts);
  w.u64(m.last_seq);
  w.i64(m.last_ts);
  w.u8(m.epoch ? 1 : 0);
  w.i64(m.epoch.value_or(0));

  w.u32(static_cast<uint32_t>(m.item_ids.size()));
  for (uint32_t i = 0; i < m.item_ids.size(); ++i) {
    w.str(m.item_ids[i]);
    w.f64(m.pop[i]);
    for (const Decayed* d : {&m.trend[i], &m.trend_base[i]}) {
      w.f64(d->value);
      w.i64(d->ts);
    }
    w.f64(m.tally[i].total);
    w.u32(static_cast<uint32_t>(m.tally[i].days.size()));
    for (const DayWeight& d : m.tally[i].days) {
      w.u32(static_cast<uint32_t>(d.day));
      w.f32(d.weight);
    }
    w.u32(m.buyers[i]);
    w.u32(m.repeat_buyers[i]);
    put_row(w, m.co[i]);
    put_row(w, m.bought_with[i]);
  }

  w.u32(static_cast<uint32_t>(m.people.size()));
  for (const Person& p : m.people) {
    w.str(p.key);
    w.u8(p.personalized ? (*p.personalized ? 2 : 1) : 0);
    w.u32(static_cast<uint32_t>(p.recent.size()));
    for (const Recent& r : p.recent) {
      w.u32(r.item);
      w.i64(r.ts);
      w.u8(r.view ? 1 : 0);
    }
    put_row(w, p.weights);
    auto bought = sorted(p.bought);
    w.u32(static_cast<uint32_t>(bought.size()));
    for (const auto& [i, n] : bought) {
      w.u32(i);
      w.u32(n);
    }
    std::vector<uint32_t> removed(p.removed.begin(), p.removed.end());
    std::sort(removed.begin(), removed.end());
    w.u32(static_cast<uint32_t>(removed.size()));
    for (uint32_t i : removed) w.u32(i);
    std::vector<uint32_t> rated(p.rated.begin(), p.rated.end());
    std::sort(rated.begin(), rated.end());
    w.u32(static_cast<uint32_t>(rated.size()));
    for (uint32_t i : rated) w.u32(i);
    auto cart = sorted(p.cart);
    w.u32(static_cast<uint32_t>(cart.size()));
    for (const auto& [i, q] : cart) {
      w.u32(i);
      w.i64(q);
    }
  }

  auto joined = sorted(m.visitor_account);
  w.u32(static_cast<uint32_t>(joined.size()));
  for (const auto& [visitor, user] : joined) {
    w.str(visitor);
    w.str(user);
  }

  w.u32(static_cast<uint32_t>(m.forgotten.size()));
  for (const Forgotten& f : m.forgotten) {
    w.u64(f.seq);
    put_strings(w, f.user_ids);
    put_strings(w, f.visitor_ids);
  }
  return w.take();
}

Result<RecoModels> RecoModels::decode(std::string_view bytes, const RecommendOptions& opts) {
  Reader r(bytes);
  auto bad = [](const std::string& what) {
    return Status::corruption("models file: " + what);
  };
  if (r.u32() != kFormat || r.failed()) return bad("another version of the format");
  if (!(get_options(r) == opts) || r.failed()) {
    return bad("built with other model options than the server's");
  }
  RecoModels out(opts);
  Rep& m = *out.rep_;
  m.last_seq = r.u64();
  m.last_ts = r.i64();
  const bool has_epoch = r.u8() != 0;
  const int64_t epoch = r.i64();
  if (has_epoch) m.epoch = epoch;

  const uint32_t items = r.count(4 + 8 + 2 * (8 + 8) + 8 + 4 + 4 + 4 + 4 + 4);
  for (uint32_t i = 0; i < items && !r.failed(); ++i) {
    const std::string id = r.str();
    if (m.intern_item(id) != i) return bad("item " + id + " is listed twice");
    m.pop[i] = r.f64();
    for (Decayed* d : {&m.trend[i], &m.trend_base[i]}) {
      d->value = r.f64();
      d->ts = r.i64();
    }
    m.tally[i].total = r.f64();
    m.tally[i].days.resize(r.count(4 + 4));
    for (DayWeight& d : m.tally[i].days) {
      d.day = static_cast<int32_t>(r.u32());
      d.weight = r.f32();
    }
    m.buyers[i] = r.u32();
    m.repeat_buyers[i] = r.u32();
    for (BatchedRows* rows : {&m.co, &m.bought_with}) {
      Row& row = rows->loaded_row(i);
      const uint32_t n = r.count(4 + 8);
      row.reserve(n);
      for (uint32_t k = 0; k < n; ++k) {
        const uint32_t j = r.u32();
        const double x = r.f64();
        // Rows may name items listed after this one: checked once all are read.
        row.emplace(j, x);
      }
    }
  }
  if (r.failed()) return bad("truncated in the items");
  for (uint32_t i = 0; i < items; ++i) {
    for (const BatchedRows* rows : {&m.co, &m.bought_with}) {
      for (const auto& [j, x] : (*rows)[i]) {
        if (j >= items) return bad("a row names item " + std::to_string(j) + " of " + std::to_string(items));
      }
    }
  }

  auto item_ok = [&](uint32_t i) { return i < items; };
  const uint32_t people = r.count(4 + 1 + 4 * 5);
  for (uint32_t u = 0; u < people && !r.failed(); ++u) {
    const std::string key = r.str();
    if (m.person_index.contains(av(key))) return bad("person " + key + " is listed twice");
    Person& p = m.person(key);
    const uint8_t personalized = r.u8();
    if (personalized != 0) p.personalized = personalized == 2;
    p.recent.resize(r.count(4 + 8 + 1));
    for (Recent& rec : p.recent) {
      rec.item = r.u32();
      rec.ts = r.i64();
      rec.view = r.u8() != 0;
      if (!item_ok(rec.item)) return bad("person " + key + " names an unknown item");
    }
    for (uint32_t n = r.count(4 + 8), k = 0; k < n; ++k) {
      const uint32_t i = r.u32();
      p.weights[i] = r.f64();
      if (!item_ok(i)) return bad("person " + key + " names an unknown item");
    }
    for (uint32_t n = r.count(4 + 4), k = 0; k < n; ++k) {
      const uint32_t i = r.u32();
      p.bought[i] = r.u32();
      if (!item_ok(i)) return bad("person " + key + " names an unknown item");
    }
    for (uint32_t n = r.count(4), k = 0; k < n; ++k) {
      const uint32_t i = r.u32();
      p.removed.insert(i);
      if (!item_ok(i)) return bad("person " + key + " names an unknown item");
    }
    for (uint32_t n = r.count(4), k = 0; k < n; ++k) {
      const uint32_t i = r.u32();
      p.rated.insert(i);
      if (!item_ok(i)) return bad("person " + key + " names an unknown item");
    }
    for (uint32_t n = r.count(4 + 8), k = 0; k < n; ++k) {
      const uint32_t i = r.u32();
      p.cart[i] = r.i64();
      if (!item_ok(i)) return bad("person " + key + " names an unknown item");
    }
  }
  if (r.failed()) return bad("truncated in the people");

  for (uint32_t n = r.count(8), k = 0; k < n; ++k) {
    std::string visitor = r.str();
    std::string user = r.str();
    m.account_visitors[user].insert(visitor);
    m.visitor_account.emplace(std::move(visitor), std::move(user));
  }
  m.forgotten.resize(r.count(8 + 4 + 4));
  for (Forgotten& f : m.forgotten) {
    f.seq = r.u64();
    f.user_ids = get_strings(r);
    f.visitor_ids = get_strings(r);
  }
  if (r.failed()) return bad("truncated");
  if (!r.at_end()) return bad("bytes after the end");
  return out;
}

}  // namespace trove
