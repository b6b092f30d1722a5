// The UCI "Online Retail" transactions (../shared/data/uci-online-retail/transactions.csv,
// Chen, Sain & Guo 2012, CC BY 4.0) turned into a Trove event stream, for the ingest
// benchmark and the [data] tests. Nothing here is part of the engine: it is a fixture that
// speaks the public event API only.
//
// The mapping, row by row in file order (the file is sorted by InvoiceDate):
//   - ItemUpsert the first time a StockCode appears in a converted row: id = StockCode,
//     title = Description trimmed (the StockCode when empty), price = UnitPrice when >= 0,
//     currency "GBP". event_id "uci-item-<StockCode>".
//   - AddToCart for every sale row (Quantity > 0, invoice not starting with "C" or "A"):
//     quantity, price = UnitPrice when >= 0. event_id "uci-<InvoiceNo>-<file line>".
//   - PurchaseComplete right after the last sale row of each invoice (one invoice, 542806,
//     is split in two runs in the file; its order closes after the second): order_id =
//     InvoiceNo, lines aggregated by StockCode (quantities summed; price the common unit
//     price, or the quantity-weighted mean when an invoice lists one code at two prices),
//     revenue = sum of quantity x price rounded to 1/1000, currency "GBP".
//     event_id "uci-order-<InvoiceNo>". An invoice with more than 1000 distinct codes (the
//     event's limit; one such invoice exists) is split into parts of at most 1000 lines with
//     the same order_id and event_ids "uci-order-<InvoiceNo>", "...-2", ...
//   - Cancellation rows (InvoiceNo starting with "C", Quantity < 0): RemoveFromCart with
//     quantity = -Quantity. The catalog has no "return" event; RemoveFromCart is the
//     negative signal it does have (the state remembers it in the person's history; the
//     cart line is already gone because the purchase cleared it). Turn off with
//     RetailOptions::cancellations to skip them instead.
//   - Skipped (counted in skipped_rows): rows with Quantity <= 0 outside a cancellation
//     (warehouse write-offs: "damaged", "lost", price 0, no customer) and the three "A"
//     invoices ("Adjust bad debt"): bookkeeping, not anybody's behaviour.
//   - user = {visitor_id: "c<CustomerID as integer>"}, or "guest-<InvoiceNo>" when the
//     CustomerID is empty (each anonymous invoice is its own visitor).
//   - timestamp = InvoiceDate read as UTC, in ms.
// Every event carries a deterministic event_id, so importing the file twice is idempotent.
//
// A row that cannot be converted (wrong field count, unparsable number or date, broken
// quoting, invalid UTF-8, an over-long id) is counted in bad_rows with its line number in
// `errors`; it never stops the conversion. Only an unreadable file is an error Status.
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/status.h"

namespace trove::retail {

struct RetailOptions {
  bool cancellations = true;  // false: skip cancellation rows instead of RemoveFromCart
  uint64_t max_rows = 0;      // convert only the first N data rows (0: all)
};

struct RetailStats {
  uint64_t rows = 0;          // CSV records after the header
  uint64_t bad_rows = 0;      // could not be converted
  uint64_t skipped_rows = 0;  // well-formed but not behaviour (see above)
  uint64_t guest_rows = 0;    // converted rows without a CustomerID
  uint64_t items = 0;         // ItemUpsert events (distinct StockCodes converted)
  uint64_t add_to_cart = 0;
  uint64_t remove_from_cart = 0;
  uint64_t purchases = 0;  // PurchaseComplete events
  uint64_t invoices = 0;   // sale invoices closed (== purchases unless one was split)
  uint64_t split_invoices = 0;
  std::vector<std::string> errors;  // the first kMaxErrors bad rows, "line N: why"
  static constexpr size_t kMaxErrors = 20;

  uint64_t events() const { return items + add_to_cart + remove_from_cart + purchases; }
};

using EventSink = std::function<void(Event&&)>;

// Converts CSV text (header line included) and calls sink for each event, in stream order.
Status convert_retail_csv_text(std::string_view csv, const EventSink& sink, RetailStats* stats,
                               const RetailOptions& opts = {});

// Same, reading the file at `path`.
Status convert_retail_csv(const std::string& path, const EventSink& sink, RetailStats* stats,
                          const RetailOptions& opts = {});

// Appends the events of `path` to *out as canonical NDJSON (serialize_event + '\n').
Status convert_retail_csv_to_ndjson(const std::string& path, std::string* out, RetailStats* stats,
                                    const RetailOptions& opts = {});

// The shared data directory: $TROVE_SHARED_DATA when set, else `fallback`. The transactions
// file is <dir>/uci-online-retail/transactions.csv; nullopt when it does not exist.
std::optional<std::string> find_transactions_csv(const std::string& fallback);

// ---- pieces exposed for tests ---------------------------------------------------------------

// A CSV record splitter over an in-memory text (RFC 4180: fields optionally quoted, "" is a
// quote inside quotes, quoted fields may hold commas and newlines; \n or \r\n ends a record).
// Unquoted fields and quoted ones without "" are views into the text; unescaped ones live in
// the reader and stay valid until the next call to next().
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}
  // Reads the next record into *fields. false at the end of the text.
  bool next(std::vector<std::string_view>* fields);
  // 1-based line where the record just read starts.
  uint64_t line() const { return record_line_; }
  // The record just read had a quote problem (text after a closing quote, or an unclosed one).
  bool malformed() const { return malformed_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  uint64_t next_line_ = 1;
  uint64_t record_line_ = 0;
  bool malformed_ = false;
  std::deque<std::string> scratch_;  // unescaped quoted fields; a deque so views stay put
  size_t scratch_used_ = 0;
};

// "YYYY-MM-DD HH:MM:SS" read as UTC -> ms since the epoch; nullopt when malformed.
std::optional<int64_t> parse_invoice_date(std::string_view text);

}  // namespace trove::retail
