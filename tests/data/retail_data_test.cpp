// The UCI Online Retail converter (bench/retail_events.h) and, through it, the whole write
// path on real data: 541,909 invoice lines become ~565,000 events, are ingested into a Store
// with fsync, and replayed twice to the same digest the live store had.
//
// The expected counts for the real file come from an independent reading of it with Python's
// csv module (the oracle script is quoted beside the numbers), not from this converter.
// The tests that need the dataset WARN and return when it is absent (Catch2 2.13 has no SKIP).
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h"
#include "retail_events.h"
#include "trove/data/events.h"
#include "trove/data/state.h"
#include "trove/data/store.h"

namespace {

namespace fs = std::filesystem;
using trove::Event;
using trove::EventType;
namespace retail = trove::retail;

using TempDir = trove::test::TempDir;

std::vector<Event> convert(const std::string& csv, retail::RetailStats* stats,
                           const retail::RetailOptions& opts = {}) {
  std::vector<Event> out;
  const trove::Status st = retail::convert_retail_csv_text(
      csv, [&](Event&& e) { out.push_back(std::move(e)); }, stats, opts);
  REQUIRE(st.ok());
  return out;
}

template <class T>
const T& body(const Event& e) {
  REQUIRE(std::holds_alternative<T>(e.body));
  return std::get<T>(e.body);
}

// An independent clock for the dates: libc's timegm.
int64_t timegm_ms(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(::timegm(&tm)) * 1000;
}

const char* kHeader =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";

}  // namespace

TEST_CASE("CSV reader splits quoted fields, doubled quotes, embedded newlines and CRLF", "[data]") {
  const std::string text =
      "a,b,c\r\n"
      "1,\"x, y\",\"say \"\"hi\"\"\"\n"
      "2,\"two\nlines\",\n"
      ",,\n"
      "3,\"bad\"tail,z\n"
      "4,\"unclosed";
  retail::CsvReader r(text);
  std::vector<std::string_view> f;
  REQUIRE(r.next(&f));
  CHECK(r.line() == 1);
  CHECK(f == std::vector<std::string_view>{"a", "b", "c"});
  REQUIRE(r.next(&f));
  CHECK(r.line() == 2);
  CHECK_FALSE(r.malformed());
  CHECK(f == std::vector<std::string_view>{"1", "x, y", "say \"hi\""});
  REQUIRE(r.next(&f));
  CHECK(r.line() == 3);
  CHECK(f == std::vector<std::string_view>{"2", "two\nlines", ""});
  REQUIRE(r.next(&f));
  CHECK(r.line() == 5);  // the quoted newline counted as a line
  CHECK(f == std::vector<std::string_view>{"", "", ""});
  REQUIRE(r.next(&f));
  CHECK(r.line() == 6);
  CHECK(r.malformed());
  CHECK(f.size() == 3);
  REQUIRE(r.next(&f));
  CHECK(r.line() == 7);
  CHECK(r.malformed());
  CHECK(f == std::vector<std::string_view>{"4", "unclosed"});
  CHECK_FALSE(r.next(&f));
}

TEST_CASE("invoice dates are read as UTC and impossible dates are refused", "[data]") {
  CHECK(retail::parse_invoice_date("2010-12-01 08:26:00") == timegm_ms(2010, 12, 1, 8, 26, 0));
  CHECK(retail::parse_invoice_date("2011-12-09 12:50:00") == timegm_ms(2011, 12, 9, 12, 50, 0));
  CHECK(retail::parse_invoice_date("2012-02-29 23:59:59") == timegm_ms(2012, 2, 29, 23, 59, 59));
  CHECK(retail::parse_invoice_date("1970-01-01 00:00:00") == 0);
  for (const char* bad :
       {"2011-02-29 00:00:00", "2010-13-01 00:00:00", "2010-12-32 00:00:00", "2010-12-01 24:00:00",
        "2010-12-01 8:26:00", "2010-12-01", "", "1969-12-31 23:59:59", "2010/12/01 08:26:00"}) {
    INFO(bad);
    CHECK_FALSE(retail::parse_invoice_date(bad).has_value());
  }
}

TEST_CASE("retail rows become item upserts, cart adds, one order per invoice and removals",
          "[data]") {
  // File lines: 2-3 invoice 536365; 4 a guest invoice with an empty description; 5 invoice
  // 536365 again, at a second price; 6 a write-off (skipped); 7 a cancellation; 8 a bad-debt
  // adjustment (skipped); 9 and 10 bad rows.
  const std::string csv =
      std::string(kHeader) +
      "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,UK\n"
      "536365,71053,\"METAL LANTERN, \"\"WHITE\"\"\",6,2010-12-01 08:26:00,3.39,"
      "17850.0,UK\n"
      "536366,22633,,6,2010-12-01 08:28:00,1.85,,UK\n"
      "536365,85123A,WHITE HANGING HEART,4,2010-12-01 08:29:00,2.95,17850.0,UK\n"
      "536367,21777,damaged,-12,2010-12-01 08:30:00,0,,UK\n"
      "C536379,85123A,WHITE HANGING HEART,-2,2010-12-01 09:41:00,2.55,17850.0,UK\n"
      "A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,,UK\n"
      "536368,22960,JAM MAKING SET,six,2010-12-01 09:00:00,4.25,13047.0,UK\n"
      "536369,22960,JAM MAKING SET,3,2010-12-01 09:01:00,4.25,13047.0\n";
  retail::RetailStats stats;
  const auto events = convert(csv, &stats);

  CHECK(stats.rows == 9);
  CHECK(stats.bad_rows == 2);
  REQUIRE(stats.errors.size() == 2);
  CHECK(stats.errors[0] == "line 9: Quantity is not an integer");
  CHECK(stats.errors[1] == "line 10: expected 8 fields");
  CHECK(stats.skipped_rows == 2);
  CHECK(stats.items == 3);
  CHECK(stats.add_to_cart == 4);
  CHECK(stats.remove_from_cart == 1);
  CHECK(stats.purchases == 2);
  CHECK(stats.invoices == 2);
  CHECK(stats.guest_rows == 1);
  REQUIRE(events.size() == stats.events());

  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.event_id.value_or("?"));
  CHECK(ids == std::vector<std::string>{"uci-item-85123A", "uci-536365-2", "uci-item-71053",
                                        "uci-536365-3", "uci-item-22633", "uci-536366-4",
                                        "uci-order-536366", "uci-536365-5", "uci-order-536365",
                                        "uci-C536379-7"});
  // Invoice 536365 is on lines 2, 3 and 5: its order closes after its last line, not its run.

  const auto& item = body<trove::ItemUpsert>(events[0]);
  CHECK(item.id == "85123A");
  CHECK(item.title == "WHITE HANGING HEART");
  CHECK(item.price == 2.55);
  CHECK(item.currency == "GBP");
  CHECK(events[0].timestamp_ms == timegm_ms(2010, 12, 1, 8, 26, 0));
  CHECK(body<trove::ItemUpsert>(events[2]).title == "METAL LANTERN, \"WHITE\"");
  CHECK(body<trove::ItemUpsert>(events[4]).title == "22633");  // empty description

  const auto& add = body<trove::AddToCart>(events[1]);
  CHECK(add.user.visitor_id == "c17850");
  CHECK(add.item_id == "85123A");
  CHECK(add.quantity == 6);
  CHECK(add.price == 2.55);
  CHECK(body<trove::AddToCart>(events[5]).user.visitor_id == "guest-536366");

  const auto& order = body<trove::PurchaseComplete>(events[8]);
  CHECK(events[8].timestamp_ms == timegm_ms(2010, 12, 1, 8, 29, 0));
  CHECK(order.order_id == "536365");
  CHECK(order.user.visitor_id == "c17850");
  CHECK(order.currency == "GBP");
  REQUIRE(order.lines.size() == 2);
  CHECK(order.lines[0].item_id == "85123A");
  CHECK(order.lines[0].quantity == 10);
  CHECK(order.lines[0].price == Approx((6 * 2.55 + 4 * 2.95) / 10));  // two prices: weighted
  CHECK(order.lines[1].item_id == "71053");
  CHECK(order.lines[1].price == 3.39);
  CHECK(order.revenue == Approx(6 * 2.55 + 4 * 2.95 + 6 * 3.39));

  const auto& removal = body<trove::RemoveFromCart>(events[9]);
  CHECK(removal.user.visitor_id == "c17850");
  CHECK(removal.item_id == "85123A");
  CHECK(removal.quantity == 2);

  // Everything produced is a valid event that survives its canonical form.
  trove::EventParser parser;
  for (const auto& e : events) {
    const std::string json = trove::serialize_event(e);
    INFO(json);
    auto back = parser.parse(json);
    REQUIRE(back.ok());
    CHECK(back.value() == e);
  }
}

TEST_CASE("cancellations are skipped instead of removed when asked", "[data]") {
  const std::string csv =
      std::string(kHeader) +
      "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-01 09:41:00,2.55,17850.0,UK\n";
  retail::RetailStats stats;
  retail::RetailOptions opts;
  opts.cancellations = false;
  CHECK(convert(csv, &stats, opts).empty());
  CHECK(stats.skipped_rows == 1);
  CHECK(stats.items == 0);
}

TEST_CASE("an invoice with more than 1000 distinct products becomes several orders", "[data]") {
  std::string csv = kHeader;
  for (int i = 0; i < 1500; ++i) {
    csv += "540000,P" + std::to_string(i) + ",THING,1,2011-01-01 10:00:00,1.5,12345.0,UK\n";
  }
  retail::RetailStats stats;
  const auto events = convert(csv, &stats);
  CHECK(stats.invoices == 1);
  CHECK(stats.split_invoices == 1);
  REQUIRE(stats.purchases == 2);
  std::vector<const Event*> orders;
  for (const auto& e : events) {
    if (e.type() == EventType::kPurchaseComplete) orders.push_back(&e);
  }
  REQUIRE(orders.size() == 2);
  CHECK(orders[0]->event_id == "uci-order-540000");
  CHECK(orders[1]->event_id == "uci-order-540000-2");
  CHECK(body<trove::PurchaseComplete>(*orders[0]).lines.size() == 1000);
  CHECK(body<trove::PurchaseComplete>(*orders[1]).lines.size() == 500);
  CHECK(body<trove::PurchaseComplete>(*orders[1]).order_id == "540000");
  CHECK(body<trove::PurchaseComplete>(*orders[1]).revenue == 750.0);
}

TEST_CASE("importing the same retail rows twice applies them once", "[data]") {
  const std::string csv =
      std::string(kHeader) +
      "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,UK\n"
      "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,UK\n"
      "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-01 09:41:00,2.55,17850.0,UK\n";
  TempDir dir;
  auto store = trove::Store::open(dir.path());
  REQUIRE(store.ok());
  retail::RetailStats first, second;
  auto a = store.value()->ingest(convert(csv, &first));
  REQUIRE(a.ok());
  const uint64_t last = store.value()->last_seq();
  CHECK(last == first.events());
  auto b = store.value()->ingest(convert(csv, &second));
  REQUIRE(b.ok());
  CHECK(store.value()->last_seq() == last);
  for (const auto& ack : b.value()) CHECK(ack.duplicate);
}

TEST_CASE("the UCI Online Retail stream ingests with fsync and replays to the live digest",
          "[data]") {
  const char* env_dir = std::getenv("TROVE_SHARED_DATA");
  const auto csv = retail::find_transactions_csv(std::string(TROVE_SOURCE_DIR) + "/../shared/data");
  if (!csv) {
    WARN("skipped: uci-online-retail/transactions.csv not found under "
         << (env_dir ? env_dir : TROVE_SOURCE_DIR "/../shared/data"));
    return;
  }
  std::vector<Event> events;
  events.reserve(570000);
  retail::RetailStats stats;
  const trove::Status st = retail::convert_retail_csv(
      *csv, [&](Event&& e) { events.push_back(std::move(e)); }, &stats);
  REQUIRE(st.ok());
  for (const auto& e : stats.errors) UNSCOPED_INFO(e);

  // The oracle, Python's csv module over the same file:
  //   sale = InvoiceNo starts with a digit and Quantity > 0; cancel = starts with "C" and < 0
  //   items = |{StockCode of sale or cancel rows}|, invoices = |{InvoiceNo of sale rows}|, ...
  CHECK(stats.rows == 541909);
  CHECK(stats.bad_rows == 0);
  CHECK(stats.skipped_rows == 1339);  // 1,336 write-offs + 3 "A" bad-debt adjustments
  CHECK(stats.items == 3956);         // of the file's 4,070 codes; the rest only in write-offs
  CHECK(stats.add_to_cart == 531282);
  CHECK(stats.remove_from_cart == 9288);
  CHECK(stats.invoices == 20725);
  CHECK(stats.split_invoices == 1);  // one invoice lists 1,110 distinct codes
  CHECK(stats.purchases == 20726);
  CHECK(stats.guest_rows == 133741);
  REQUIRE(events.size() == stats.events());
  const uint64_t n = events.size();
  const std::vector<Event> first_batch(events.begin(), events.begin() + 10000);

  TempDir dir;
  std::string live_digest;
  {
    trove::StoreOptions opts;
    opts.journal.fsync = true;
    auto store = trove::Store::open(dir.path(), opts);
    REQUIRE(store.ok());
    for (size_t i = 0; i < n; i += 10000) {
      std::vector<Event> batch(std::make_move_iterator(events.begin() + i),
                               std::make_move_iterator(events.begin() + std::min(n, i + 10000)));
      auto acks = store.value()->ingest(std::move(batch));
      REQUIRE(acks.ok());
    }
    events.clear();
    REQUIRE(store.value()->last_seq() == n);

    // Re-importing is idempotent: every event_id was seen.
    auto again = store.value()->ingest(first_batch);
    REQUIRE(again.ok());
    CHECK(store.value()->last_seq() == n);
    size_t duplicates = 0;
    for (const auto& a : again.value()) duplicates += a.duplicate;
    CHECK(duplicates == first_batch.size());

    store.value()->read([&](const trove::State& s) {
      live_digest = s.digest();
      CHECK(s.item_count() == 3956);
      CHECK(s.orders() == 20726);
      CHECK(s.event_count(EventType::kAddToCart) == 531282);
      CHECK(s.event_count(EventType::kRemoveFromCart) == 9288);
      CHECK(s.event_count(EventType::kPurchaseComplete) == 20726);
      CHECK(s.profile_count() == 6743);  // 4,372 customers + 2,371 guest invoices
      CHECK(s.account_count() == 0);
      uint64_t units = 0;
      for (trove::ItemRef r = 0; r < s.item_refs(); ++r) units += s.item_counters(r)->purchases;
      CHECK(units == 5660978);  // sum of Quantity over sale rows
      const trove::Item* heart = s.item("85123A");
      REQUIRE(heart != nullptr);
      CHECK(heart->data.title == "WHITE HANGING HEART T-LIGHT HOLDER");
      CHECK(s.last_timestamp_ms() == timegm_ms(2011, 12, 9, 12, 50, 0));
    });
  }

  trove::ReplayOptions no_snapshots;
  no_snapshots.use_snapshots = false;
  auto r1 = trove::replay(dir.path(), no_snapshots);
  REQUIRE(r1.ok());
  auto r2 = trove::replay(dir.path(), no_snapshots);
  REQUIRE(r2.ok());
  CHECK(r1->last_seq() == n);
  const std::string d1 = r1->digest();
  CHECK(d1 == r2->digest());
  CHECK(d1 == live_digest);
}
