#include "retail_events.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace trove::retail {

// ---- CSV -------------------------------------------------------------------------------------

bool CsvReader::next(std::vector<std::string_view>* fields) {
  fields->clear();
  scratch_used_ = 0;
  malformed_ = false;
  const char* p = text_.data();
  const size_t n = text_.size();
  size_t i = pos_;
  if (i >= n) return false;
  record_line_ = next_line_;
  for (;;) {
    if (p[i] == '"') {
      // Quoted: find the closing quote; "" is an escaped quote, newlines are content.
      ++i;
      const size_t start = i;
      std::string* unescaped = nullptr;
      std::string_view field;
      for (;;) {
        const void* q = std::memchr(p + i, '"', n - i);
        const size_t qi = q ? static_cast<size_t>(static_cast<const char*>(q) - p) : n;
        for (size_t k = i; k < qi; ++k) next_line_ += (p[k] == '\n');
        if (qi == n) {  // unclosed: the rest of the text is this field
          malformed_ = true;
          if (unescaped) unescaped->append(p + i, n - i);
          field = unescaped ? std::string_view(*unescaped) : std::string_view(p + start, n - start);
          i = n;
          break;
        }
        if (qi + 1 < n && p[qi + 1] == '"') {
          if (!unescaped) {
            if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
            unescaped = &scratch_[scratch_used_++];
            unescaped->assign(p + start, qi + 1 - start);
          } else {
            unescaped->append(p + i, qi + 1 - i);
          }
          i = qi + 2;
          continue;
        }
        if (unescaped) unescaped->append(p + i, qi - i);
        field = unescaped ? std::string_view(*unescaped) : std::string_view(p + start, qi - start);
        i = qi + 1;
        break;
      }
      fields->push_back(field);
      if (i < n && p[i] != ',' && p[i] != '\n' &&
          !(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')) {
        malformed_ = true;  // text after the closing quote: skip to the field's end
        while (i < n && p[i] != ',' && p[i] != '\n') ++i;
      }
    } else {
      const size_t start = i;
      while (i < n && p[i] != ',' && p[i] != '\n') ++i;
      size_t end = i;
      if (end > start && p[end - 1] == '\r' && (i == n || p[i] == '\n')) --end;
      fields->emplace_back(p + start, end - start);
    }
    if (i >= n) {
      pos_ = n;
      return true;
    }
    if (p[i] == ',') {
      ++i;
      if (i == n) {  // a trailing comma ends the text: one more, empty field
        fields->emplace_back();
        pos_ = n;
        return true;
      }
      continue;
    }
    if (p[i] == '\r') ++i;
    if (i < n && p[i] == '\n') {
      ++i;
      ++next_line_;
    }
    pos_ = i;
    return true;
  }
}

// ---- field parsing ---------------------------------------------------------------------------

namespace {

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t pos, size_t len, unsigned* out) {
  unsigned v = 0;
  for (size_t k = pos; k < pos + len; ++k) {
    const char c = s[k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *out = v;
  return true;
}

// Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF), as the event parser demands.
bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Limits that keep every produced event valid (event_fields.h): ids <= 256 code points,
// event_id <= 128, titles <= 1000, quantities in [1, 1e6].
constexpr size_t kMaxInvoice = 64;
constexpr size_t kMaxCode = 128;
constexpr size_t kMaxTitle = 1000;
constexpr int64_t kMaxQuantity = 1000000;
constexpr size_t kMaxOrderLines = 1000;
constexpr double kMaxRevenue = 1e6;

enum class RowKind { kSale, kCancel, kSkip };

struct Row {
  std::string_view invoice, code, desc;
  int64_t quantity = 0;
  int64_t ts = 0;
  double price = 0;
  std::optional<int64_t> customer;
  RowKind kind = RowKind::kSkip;
};

// nullptr when `f` holds a convertible row (filled into *row), else why not.
const char* parse_row(const std::vector<std::string_view>& f, bool malformed, Row* row) {
  if (malformed) return "broken quoting";
  if (f.size() != 8) return "expected 8 fields";
  row->invoice = f[0];
  row->code = f[1];
  row->desc = trim(f[2]);
  if (row->invoice.empty() || row->invoice.size() > kMaxInvoice) return "bad InvoiceNo";
  if (row->code.empty() || row->code.size() > kMaxCode) return "bad StockCode";
  if (row->desc.size() > kMaxTitle) return "Description over 1000 bytes";
  if (!valid_utf8(row->invoice) || !valid_utf8(row->code) || !valid_utf8(row->desc)) {
    return "invalid UTF-8";
  }
  {
    const auto q = f[3];
    auto [end, ec] = std::from_chars(q.data(), q.data() + q.size(), row->quantity);
    if (ec != std::errc() || end != q.data() + q.size()) return "Quantity is not an integer";
  }
  const auto ts = parse_invoice_date(f[4]);
  if (!ts) return "InvoiceDate is not YYYY-MM-DD HH:MM:SS";
  row->ts = *ts;
  {
    const auto pr = f[5];
    auto [end, ec] = std::from_chars(pr.data(), pr.data() + pr.size(), row->price);
    if (ec != std::errc() || end != pr.data() + pr.size() || !std::isfinite(row->price) ||
        std::fabs(row->price) > 1e9) {
      return "UnitPrice is not a number";
    }
  }
  row->customer.reset();
  if (const auto c = f[6]; !c.empty()) {
    // Float text: "17850.0". The integer part names the customer; any fraction must be zero.
    int64_t id = 0;
    auto [end, ec] = std::from_chars(c.data(), c.data() + c.size(), id);
    if (ec != std::errc() || id < 0) return "CustomerID is not a number";
    const char* rest = end;
    if (rest != c.data() + c.size()) {
      if (*rest != '.') return "CustomerID is not a number";
      for (++rest; rest != c.data() + c.size(); ++rest) {
        if (*rest != '0') return "CustomerID has a fraction";
      }
    }
    row->customer = id;
  }
  const char first = row->invoice.front();
  if (first == 'C') {
    row->kind = row->quantity < 0 ? RowKind::kCancel : RowKind::kSkip;
    if (-row->quantity > kMaxQuantity) return "Quantity over 1e6";
  } else if (first >= '0' && first <= '9') {
    row->kind = row->quantity > 0 ? RowKind::kSale : RowKind::kSkip;
    if (row->quantity > kMaxQuantity) return "Quantity over 1e6";
  } else {
    row->kind = RowKind::kSkip;  // "A": bad-debt adjustments
  }
  return nullptr;
}

bool blank(const std::vector<std::string_view>& f) { return f.size() == 1 && f[0].empty(); }

struct OrderLine {
  std::string code;
  int64_t quantity = 0;
  double amount = 0;  // sum of quantity x price over priced rows
  int64_t priced_quantity = 0;
  std::optional<double> first_price;
  bool one_price = true;
};

struct Pending {
  uint32_t remaining = 0;  // sale rows still to come (counted in the first pass)
  int64_t last_ts = 0;
  UserRef user;
  std::vector<OrderLine> lines;
};

UserRef user_of(const Row& row) {
  UserRef u;
  if (row.customer) {
    char buf[24] = {'c'};
    const auto end = std::to_chars(buf + 1, buf + sizeof buf, *row.customer).ptr;
    u.visitor_id.assign(buf, static_cast<size_t>(end - buf));
  } else {
    u.visitor_id = "guest-";
    u.visitor_id += row.invoice;
  }
  return u;
}

std::string row_event_id(const Row& row, uint64_t line) {
  std::string id = "uci-";
  id += row.invoice;
  id += '-';
  id += std::to_string(line);
  return id;
}

double round_milli(double x) { return std::round(x * 1000.0) / 1000.0; }

void emit_order(const std::string& invoice, Pending& order, const EventSink& sink,
                RetailStats& stats) {
  const size_t parts = (order.lines.size() + kMaxOrderLines - 1) / kMaxOrderLines;
  for (size_t part = 0; part < parts; ++part) {
    PurchaseComplete pc;
    pc.user = order.user;
    pc.order_id = invoice;
    pc.currency = "GBP";
    double revenue = 0;
    const size_t begin = part * kMaxOrderLines;
    const size_t end = std::min(order.lines.size(), begin + kMaxOrderLines);
    pc.lines.reserve(end - begin);
    for (size_t k = begin; k < end; ++k) {
      OrderLine& l = order.lines[k];
      PurchaseLine pl{.item_id = std::move(l.code), .quantity = l.quantity};
      if (l.first_price) {
        pl.price = l.one_price ? *l.first_price : l.amount / static_cast<double>(l.priced_quantity);
      }
      revenue += l.amount;
      pc.lines.push_back(std::move(pl));
    }
    revenue = round_milli(revenue);
    if (std::fabs(revenue) <= kMaxRevenue) pc.revenue = revenue;
    Event ev;
    ev.event_id = "uci-order-" + invoice;
    if (part > 0) {
      *ev.event_id += '-';
      *ev.event_id += std::to_string(part + 1);
    }
    ev.timestamp_ms = order.last_ts;
    ev.body = std::move(pc);
    sink(std::move(ev));
    ++stats.purchases;
  }
  ++stats.invoices;
  if (parts > 1) ++stats.split_invoices;
}

}  // namespace

std::optional<int64_t> parse_invoice_date(std::string_view s) {
  // Exactly "YYYY-MM-DD HH:MM:SS" (a 'T' separator is accepted too).
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  unsigned y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, &y) || !digits(s, 5, 2, &mo) || !digits(s, 8, 2, &d) ||
      !digits(s, 11, 2, &h) || !digits(s, 14, 2, &mi) || !digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 ||
      sec > 59) {
    return std::nullopt;
  }
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return std::nullopt;
  const int64_t days = days_from_civil(y, mo, d);
  return ((days * 24 + h) * 60 + mi) * 60000 + static_cast<int64_t>(sec) * 1000;
}

Status convert_retail_csv_text(std::string_view csv, const EventSink& sink, RetailStats* stats,
                               const RetailOptions& opts) {
  RetailStats local;
  RetailStats& st = stats ? *stats : local;
  std::vector<std::string_view> fields;
  fields.reserve(16);
  Row row;

  // Pass 1: how many sale rows each invoice has, so its PurchaseComplete can follow its last
  // one even when the invoice's rows are not contiguous in the file.
  std::unordered_map<std::string, Pending> orders;
  {
    CsvReader reader(csv);
    if (!reader.next(&fields)) return Status::invalid("empty file: expected a header line");
    uint64_t rows = 0;
    while ((opts.max_rows == 0 || rows < opts.max_rows) && reader.next(&fields)) {
      if (blank(fields)) continue;
      ++rows;
      if (parse_row(fields, reader.malformed(), &row) == nullptr && row.kind == RowKind::kSale) {
        ++orders[std::string(row.invoice)].remaining;
      }
    }
  }

  CsvReader reader(csv);
  (void)reader.next(&fields);  // the header
  if (fields.size() != 8 || fields[0] != "InvoiceNo" || fields[1] != "StockCode") {
    return Status::invalid(
        "expected the header InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,"
        "CustomerID,Country",
        "line 1");
  }
  std::unordered_set<std::string> seen_codes;
  uint64_t rows = 0;
  while ((opts.max_rows == 0 || rows < opts.max_rows) && reader.next(&fields)) {
    if (blank(fields)) continue;
    ++rows;
    ++st.rows;
    if (const char* why = parse_row(fields, reader.malformed(), &row)) {
      ++st.bad_rows;
      if (st.errors.size() < RetailStats::kMaxErrors) {
        st.errors.push_back("line " + std::to_string(reader.line()) + ": " + why);
      }
      continue;
    }
    if (row.kind == RowKind::kSkip || (row.kind == RowKind::kCancel && !opts.cancellations)) {
      ++st.skipped_rows;
      continue;
    }
    if (!row.customer) ++st.guest_rows;

    if (seen_codes.emplace(row.code).second) {
      ItemUpsert item;
      item.id = std::string(row.code);
      item.title = std::string(row.desc.empty() ? row.code : row.desc);
      if (row.price >= 0) item.price = row.price;
      item.currency = "GBP";
      Event ev;
      ev.event_id = "uci-item-" + item.id;
      ev.timestamp_ms = row.ts;
      ev.body = std::move(item);
      sink(std::move(ev));
      ++st.items;
    }

    Event ev;
    ev.event_id = row_event_id(row, reader.line());
    ev.timestamp_ms = row.ts;
    if (row.kind == RowKind::kCancel) {
      ev.body = RemoveFromCart{
          .user = user_of(row), .item_id = std::string(row.code), .quantity = -row.quantity};
      sink(std::move(ev));
      ++st.remove_from_cart;
      continue;
    }

    AddToCart add{.user = user_of(row), .item_id = std::string(row.code), .quantity = row.quantity};
    if (row.price >= 0) add.price = row.price;
    ev.body = std::move(add);
    sink(std::move(ev));
    ++st.add_to_cart;

    auto it = orders.find(std::string(row.invoice));
    if (it == orders.end()) return Status::internal("invoice missing from the first pass");
    Pending& order = it->second;
    if (order.lines.empty()) order.user = user_of(row);
    order.last_ts = std::max(order.last_ts, row.ts);
    OrderLine* line = nullptr;
    for (auto& l : order.lines) {
      if (l.code == row.code) {
        line = &l;
        break;
      }
    }
    if (!line) {
      line = &order.lines.emplace_back();
      line->code = std::string(row.code);
    }
    line->quantity += row.quantity;
    if (row.price >= 0) {
      line->amount += static_cast<double>(row.quantity) * row.price;
      line->priced_quantity += row.quantity;
      if (!line->first_price) {
        line->first_price = row.price;
      } else if (*line->first_price != row.price) {
        line->one_price = false;
      }
    }
    if (--order.remaining == 0) {
      emit_order(it->first, order, sink, st);
      orders.erase(it);
    }
  }
  if (!orders.empty()) return Status::internal("an invoice was left open after the last row");
  return Status();
}

Status convert_retail_csv(const std::string& path, const EventSink& sink, RetailStats* stats,
                          const RetailOptions& opts) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::io_error("cannot open " + path + ": " + std::strerror(errno));
  std::string text;
  struct stat sb {};
  if (::fstat(fileno(f), &sb) == 0 && sb.st_size > 0) {
    text.reserve(static_cast<size_t>(sb.st_size));
  }
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::io_error("cannot read " + path);
  return convert_retail_csv_text(text, sink, stats, opts).with_context(path);
}

Status convert_retail_csv_to_ndjson(const std::string& path, std::string* out, RetailStats* stats,
                                    const RetailOptions& opts) {
  return convert_retail_csv(
      path,
      [out](Event&& e) {
        serialize_event(e, out);
        out->push_back('\n');
      },
      stats, opts);
}

std::optional<std::string> find_transactions_csv(const std::string& fallback) {
  const char* env = std::getenv("TROVE_SHARED_DATA");
  std::string dir = env && *env ? env : fallback;
  std::string path = dir + "/uci-online-retail/transactions.csv";
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) return std::nullopt;
  return path;
}

}  // namespace trove::retail
