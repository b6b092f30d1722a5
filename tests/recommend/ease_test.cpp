// EaseModel on tiny hand-built matrices: B checked against a direct dense computation written
// here without Eigen (Gauss-Jordan inversion of XᵀX + λI), the popularity cut, exclusions,
// weighting, and a RecoModels-trained model that recommends what others bought together.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "trove/data/events.h"
#include "trove/recommend/ease.h"
#include "trove/recommend/models.h"

namespace {

using trove::EaseCell;
using trove::EaseModel;
using trove::EaseOptions;
using Matrix = std::vector<std::vector<double>>;

// The oracle: B from the definition, on a dense people x items matrix.
Matrix ease_oracle(const Matrix& x, double lambda) {
  const size_t m = x[0].size();
  Matrix a(m, std::vector<double>(2 * m, 0));  // [G | I]
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < m; ++j) {
      for (const auto& row : x) a[i][j] += row[i] * row[j];
    }
    a[i][i] += lambda;
    a[i][m + i] = 1;
  }
  for (size_t c = 0; c < m; ++c) {  // Gauss-Jordan with partial pivoting
    size_t pivot = c;
    for (size_t r = c + 1; r < m; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    }
    std::swap(a[c], a[pivot]);
    const double d = a[c][c];
    for (double& v : a[c]) v /= d;
    for (size_t r = 0; r < m; ++r) {
      if (r == c) continue;
      const double f = a[r][c];
      for (size_t k = 0; k < 2 * m; ++k) a[r][k] -= f * a[c][k];
    }
  }
  Matrix b(m, std::vector<double>(m, 0));
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < m; ++j) {
      if (i != j) b[i][j] = -a[i][m + j] / a[j][m + j];
    }
  }
  return b;
}

std::vector<EaseCell> cells_of(const Matrix& x) {
  std::vector<EaseCell> cells;
  for (size_t p = 0; p < x.size(); ++p) {
    for (size_t i = 0; i < x[p].size(); ++i) {
      if (x[p][i] != 0) {
        cells.push_back({static_cast<uint32_t>(p), static_cast<uint32_t>(i), x[p][i]});
      }
    }
  }
  return cells;
}

std::vector<uint32_t> ids(const std::vector<trove::ScoredItem>& v) {
  std::vector<uint32_t> out;
  for (const auto& s : v) out.push_back(s.item);
  return out;
}

}  // namespace

TEST_CASE("EASE weights equal a direct dense computation of -P/diag(P)", "[recommend][ease]") {
  // 6 people x 5 items, binary; every item has at least one person.
  const Matrix x = {{1, 1, 0, 0, 0}, {1, 1, 1, 0, 0}, {0, 1, 1, 0, 1},
                    {0, 0, 1, 1, 0}, {1, 0, 0, 1, 1}, {0, 0, 0, 1, 1}};
  for (double lambda : {0.5, 2.0, 10.0}) {
    INFO("lambda " << lambda);
    EaseOptions opts;
    opts.lambda = lambda;
    opts.weighting = EaseOptions::Weighting::kBinary;
    const EaseModel model = EaseModel::train(cells_of(x), opts);
    REQUIRE(model.stats().items == 5);
    CHECK(model.stats().people == 6);
    CHECK(model.stats().nonzeros == 15);
    const Matrix b = ease_oracle(x, lambda);
    for (uint32_t i = 0; i < 5; ++i) {
      CHECK(model.weight(i, i) == 0);
      for (uint32_t j = 0; j < 5; ++j) {
        INFO(i << " -> " << j);
        CHECK(model.weight(i, j) == Approx(b[i][j]).margin(1e-6));
      }
    }
  }
}

TEST_CASE("EASE log weighting enters X as log1p of the summed weight", "[recommend][ease]") {
  const Matrix raw = {{3, 5, 0, 0}, {1, 0, 8, 0}, {0, 2, 2, 4}, {6, 0, 0, 1}};
  Matrix logged = raw;
  for (auto& row : logged) {
    for (double& v : row) v = v > 0 ? std::log1p(v) : 0;
  }
  EaseOptions opts;
  opts.lambda = 1;
  opts.weighting = EaseOptions::Weighting::kLog;
  // The same cells split in two halves are summed before weighting.
  std::vector<EaseCell> cells;
  for (const EaseCell& c : cells_of(raw)) {
    cells.push_back({c.person, c.item, c.weight / 2});
    cells.push_back({c.person, c.item, c.weight / 2});
  }
  const EaseModel model = EaseModel::train(cells, opts);
  const Matrix b = ease_oracle(logged, 1);
  for (uint32_t i = 0; i < 4; ++i) {
    for (uint32_t j = 0; j < 4; ++j) CHECK(model.weight(i, j) == Approx(b[i][j]).margin(1e-6));
  }
}

TEST_CASE("EASE recommends what others bought with the history, never the history itself",
          "[recommend][ease]") {
  // Items: 10 bread, 20 butter, 30 jam, 40 soap, 50 towel. Bread, butter and jam go together;
  // soap with towel. Item numbers are sparse on purpose.
  std::vector<EaseCell> cells;
  uint32_t person = 0;
  auto basket = [&](std::vector<uint32_t> items, int times) {
    for (int t = 0; t < times; ++t, ++person) {
      for (uint32_t i : items) cells.push_back({person, i, 5});
    }
  };
  basket({10, 20, 30}, 4);
  basket({10, 20}, 3);
  basket({10, 30}, 2);
  basket({40, 50}, 4);
  basket({40}, 2);
  EaseOptions opts;
  opts.lambda = 1;
  const EaseModel model = EaseModel::train(cells, opts);
  REQUIRE(model.stats().items == 5);

  const std::vector<std::pair<uint32_t, double>> bread = {{10, 5}};
  const auto top = model.recommend(bread, 2, nullptr);
  CHECK(ids(top) == std::vector<uint32_t>{20, 30});
  CHECK(top[0].score > top[1].score);
  CHECK(top[1].score > 0);

  const std::vector<std::pair<uint32_t, double>> soap = {{40, 1}};
  CHECK(model.recommend(soap, 1, nullptr)[0].item == 50);

  // The history is skipped unless asked for; accept filters; n bounds the list.
  const std::vector<std::pair<uint32_t, double>> bread_butter = {{10, 5}, {20, 5}};
  CHECK(ids(model.recommend(bread_butter, 1, nullptr)) == std::vector<uint32_t>{30});
  const auto with_history = model.recommend(bread_butter, 5, nullptr, /*include_history=*/true);
  CHECK(with_history.size() == 5);
  CHECK(ids(model.recommend(bread_butter, 5, [](uint32_t i) { return i != 30; })).front() != 30);
  CHECK(model.recommend(bread_butter, 5, nullptr).size() == 3);

  // Unknown items and non-positive weights are ignored; nothing modeled, nothing returned.
  const std::vector<std::pair<uint32_t, double>> unknown = {{99, 5}, {10, -1}};
  CHECK(model.recommend(unknown, 5, nullptr).empty());
  CHECK(EaseModel().recommend(bread, 5, nullptr).empty());
  CHECK(model.weight(10, 99) == 0);
}

TEST_CASE("EASE keeps only the max_items items most people interacted with", "[recommend][ease]") {
  // People per item: 1 -> 5, 2 -> 4, 3 -> 3, 4 -> 3, 5 -> 1.
  std::vector<EaseCell> cells;
  const std::vector<std::pair<uint32_t, int>> counts = {{5, 1}, {4, 3}, {3, 3}, {2, 4}, {1, 5}};
  for (const auto& [item, n] : counts) {
    for (int p = 0; p < n; ++p) cells.push_back({static_cast<uint32_t>(p), item, 1});
  }
  EaseOptions opts;
  opts.max_items = 3;
  const EaseModel model = EaseModel::train(cells, opts);
  CHECK(model.stats().candidates == 5);
  CHECK(model.stats().items == 3);
  // Most popular first; item 3 wins the tie with item 4 by its lower number.
  CHECK(model.items() == std::vector<uint32_t>{1, 2, 3});
  CHECK_FALSE(model.modeled(4));
  CHECK(model.stats().bytes >= 9 * sizeof(float));
}

TEST_CASE("EASE trains from RecoModels interactions and skips unpersonalized people",
          "[recommend][ease]") {
  trove::RecoModels models;
  uint64_t seq = 0;
  int64_t ts = 1'300'000'000'000;
  auto buy = [&](const std::string& visitor, std::vector<std::string> items, bool personal) {
    trove::PurchaseComplete p;
    p.user.visitor_id = visitor;
    if (!personal) p.user.personalized = false;
    p.order_id = std::to_string(seq + 1);
    for (auto& i : items) p.lines.push_back({.item_id = i, .quantity = 1});
    trove::Event e;
    e.timestamp_ms = ts += 60'000;
    e.body = std::move(p);
    models.apply(++seq, e);
  };
  // Names built in steps: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  auto name = [](char c, int i) {
    std::string s(1, c);
    s += std::to_string(i);
    return s;
  };
  for (int i = 0; i < 3; ++i) buy(name('a', i), {"tea", "cup"}, true);
  buy("b", {"tea", "kettle"}, true);
  // Someone who said personalized: false buys tea with a spoon a lot: not learned from.
  for (int i = 0; i < 5; ++i) buy(name('x', i), {"tea", "spoon"}, false);
  buy("me", {"tea"}, true);

  EaseOptions opts;
  opts.lambda = 1;
  const EaseModel model = EaseModel::train(models, opts);
  const uint32_t tea = models.item_index("tea").value();
  const uint32_t cup = models.item_index("cup").value();
  CHECK(model.stats().people == 5);  // a0..a2, b, me
  CHECK_FALSE(model.modeled(models.item_index("spoon").value()));
  const auto top = model.recommend(models.interactions_of(models.person_key("", "me")), 2, nullptr);
  REQUIRE_FALSE(top.empty());
  CHECK(top[0].item == cup);
  CHECK(model.weight(tea, cup) > 0);

  opts.skip_unpersonalized = false;
  const EaseModel all = EaseModel::train(models, opts);
  CHECK(all.stats().people == 10);
  CHECK(all.modeled(models.item_index("spoon").value()));
}
