// http_retail_ndjson CSV OUT: the UCI Online Retail transactions as Trove NDJSON events (the
// mapping of bench/retail_events.h), for bench/http.sh to POST to /v1/events/bulk. A bench
// helper, not part of the engine.
#include <cstdio>
#include <string>

#include "retail_events.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: http_retail_ndjson TRANSACTIONS_CSV OUT_NDJSON\n");
    return 2;
  }
  std::string out;
  trove::retail::RetailStats stats;
  if (auto st = trove::retail::convert_retail_csv_to_ndjson(argv[1], &out, &stats); !st.ok()) {
    std::fprintf(stderr, "http_retail_ndjson: %s\n", st.to_string().c_str());
    return 1;
  }
  FILE* f = std::fopen(argv[2], "wb");
  if (f == nullptr || std::fwrite(out.data(), 1, out.size(), f) != out.size() ||
      std::fclose(f) != 0) {
    std::fprintf(stderr, "http_retail_ndjson: cannot write %s\n", argv[2]);
    return 1;
  }
  std::printf("events=%llu items=%llu add_to_cart=%llu remove_from_cart=%llu purchases=%llu "
              "bad_rows=%llu\n",
              static_cast<unsigned long long>(stats.events()),
              static_cast<unsigned long long>(stats.items),
              static_cast<unsigned long long>(stats.add_to_cart),
              static_cast<unsigned long long>(stats.remove_from_cart),
              static_cast<unsigned long long>(stats.purchases),
              static_cast<unsigned long long>(stats.bad_rows));
  return 0;
}
