#include "trove/recommend/ease.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <optional>
#include <span>

namespace trove {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A summed interaction weight as it enters X.
double cell_value(double w, EaseOptions::Weighting weighting) {
  if (!(w > 0)) return 0;  // also drops NaN
  return weighting == EaseOptions::Weighting::kBinary ? 1.0 : std::log1p(w);
}

// Sorts by (person, item) and sums repeated pairs.
std::vector<EaseCell> merged(std::span<const EaseCell> cells) {
  std::vector<EaseCell> out(cells.begin(), cells.end());
  std::sort(out.begin(), out.end(), [](const EaseCell& a, const EaseCell& b) {
    return a.person != b.person ? a.person < b.person : a.item < b.item;
  });
  size_t w = 0;
  for (size_t r = 0; r < out.size(); ++r) {
    if (w > 0 && out[w - 1].person == out[r].person && out[w - 1].item == out[r].item) {
      out[w - 1].weight += out[r].weight;
    } else {
      out[w++] = out[r];
    }
  }
  out.resize(w);
  return out;
}

}  // namespace

struct EaseModel::Rep {
  EaseOptions opts;
  Stats stats;
  std::vector<uint32_t> items;                        // column -> item
  std::vector<std::pair<uint32_t, uint32_t>> column;  // (item, column), sorted by item
  std::vector<float> b;                               // m x m, row-major: b[from * m + to]

  std::optional<uint32_t> column_of(uint32_t item) const {
    auto it = std::lower_bound(column.begin(), column.end(), std::make_pair(item, uint32_t{0}));
    if (it == column.end() || it->first != item) return std::nullopt;
    return it->second;
  }
};

EaseModel::EaseModel() : rep_(std::make_unique<Rep>()) {}
EaseModel::~EaseModel() = default;
EaseModel::EaseModel(EaseModel&&) noexcept = default;
EaseModel& EaseModel::operator=(EaseModel&&) noexcept = default;

EaseModel EaseModel::train(const RecoModels& models, const EaseOptions& opts) {
  std::vector<EaseCell> cells;
  // Whether each person may shape others' recommendations, asked once per person.
  std::vector<int8_t> allowed(models.person_count(), -1);
  models.for_each_interaction([&](uint32_t person, uint32_t item, double weight) {
    if (opts.skip_unpersonalized) {
      int8_t& a = allowed[person];
      if (a < 0) a = models.personalized(models.person(person)) ? 1 : 0;
      if (a == 0) return;
    }
    cells.push_back({person, item, weight});
  });
  return train(cells, opts);
}

EaseModel EaseModel::train(std::span<const EaseCell> input, const EaseOptions& opts) {
  const auto start = Clock::now();
  EaseModel model;
  Rep& r = *model.rep_;
  r.opts = opts;

  // X's cells, weighted; cells that weigh nothing are dropped.
  std::vector<EaseCell> cells = merged(input);
  std::erase_if(cells, [&](EaseCell& c) {
    c.weight = cell_value(c.weight, opts.weighting);
    return c.weight == 0;
  });
  r.stats.nonzeros = cells.size();

  // The max_items items the most people interacted with (ties: lower item number).
  std::vector<std::pair<uint32_t, uint32_t>> people_per_item;  // (item, people)
  {
    std::vector<uint32_t> ids;
    ids.reserve(cells.size());
    for (const EaseCell& c : cells) ids.push_back(c.item);
    std::sort(ids.begin(), ids.end());
    for (size_t i = 0; i < ids.size();) {
      size_t j = i;
      while (j < ids.size() && ids[j] == ids[i]) ++j;
      people_per_item.emplace_back(ids[i], static_cast<uint32_t>(j - i));
      i = j;
    }
  }
  r.stats.candidates = people_per_item.size();
  std::sort(people_per_item.begin(), people_per_item.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (people_per_item.size() > opts.max_items) people_per_item.resize(opts.max_items);
  const size_t m = people_per_item.size();
  r.items.reserve(m);
  for (const auto& [item, people] : people_per_item) {
    r.column.emplace_back(item, static_cast<uint32_t>(r.items.size()));
    r.items.push_back(item);
  }
  std::sort(r.column.begin(), r.column.end());
  if (m == 0) {
    r.stats.seconds = seconds_since(start);
    return model;
  }

  // G = XᵀX, lower triangle only (what LLT reads), one person's row at a time.
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(m),
                                            static_cast<Eigen::Index>(m));
  std::vector<std::pair<uint32_t, double>> row;  // (column, value), columns ascending
  for (size_t i = 0; i < cells.size();) {
    row.clear();
    size_t j = i;
    for (; j < cells.size() && cells[j].person == cells[i].person; ++j) {
      if (auto col = r.column_of(cells[j].item)) row.emplace_back(*col, cells[j].weight);
    }
    i = j;
    if (row.empty()) continue;
    ++r.stats.people;
    std::sort(row.begin(), row.end());
    for (size_t a = 0; a < row.size(); ++a) {
      const auto ca = static_cast<Eigen::Index>(row[a].first);
      const double va = row[a].second;
      for (size_t b = a; b < row.size(); ++b) {
        g(static_cast<Eigen::Index>(row[b].first), ca) += va * row[b].second;
      }
    }
  }
  g.diagonal().array() += opts.lambda;
  r.stats.gram_seconds = seconds_since(start);

  // P = G⁻¹ through an in-place Cholesky factorization (G + λI is symmetric positive definite
  // for λ > 0), then B = -P / diag(P) column by column with a zero diagonal.
  const auto solve_start = Clock::now();
  Eigen::MatrixXd p;
  {
    Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(g);
    if (llt.info() != Eigen::Success) {
      // Only with λ <= 0 and a singular G: nothing sensible to learn.
      EaseModel empty;
      empty.rep_->opts = opts;
      return empty;
    }
    p = Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(m));
    llt.solveInPlace(p);
  }
  g.resize(0, 0);
  r.b.assign(m * m, 0.0f);
  const Eigen::VectorXd diag = p.diagonal();
  for (size_t from = 0; from < m; ++from) {
    // P is symmetric, so its column `from` is its row: contiguous reads and writes.
    const double* pcol = p.data() + from * m;
    float* brow = r.b.data() + from * m;
    for (size_t to = 0; to < m; ++to) {
      if (to != from) brow[to] = static_cast<float>(-pcol[to] / diag[static_cast<Eigen::Index>(to)]);
    }
  }
  r.stats.solve_seconds = seconds_since(solve_start);
  r.stats.items = m;
  r.stats.bytes = r.b.capacity() * sizeof(float) + r.items.capacity() * sizeof(uint32_t) +
                  r.column.capacity() * sizeof(r.column[0]);
  r.stats.seconds = seconds_since(start);
  return model;
}

std::vector<ScoredItem> EaseModel::recommend(std::span<const std::pair<uint32_t, double>> history,
                                             size_t n, const Accept& accept,
                                             bool include_history) const {
  const Rep& r = *rep_;
  const size_t m = r.items.size();
  if (m == 0 || n == 0 || history.empty()) return {};
  std::vector<EaseCell> cells;
  cells.reserve(history.size());
  for (const auto& [item, weight] : history) cells.push_back({0, item, weight});
  cells = merged(cells);

  std::vector<float> scores(m, 0.0f);
  std::vector<uint8_t> seen(m, 0);
  bool any = false;
  for (const EaseCell& c : cells) {
    const auto col = r.column_of(c.item);
    if (!col) continue;
    seen[*col] = 1;
    const auto v = static_cast<float>(cell_value(c.weight, r.opts.weighting));
    if (v == 0) continue;
    any = true;
    const float* brow = r.b.data() + static_cast<size_t>(*col) * m;
    for (size_t to = 0; to < m; ++to) scores[to] += v * brow[to];
  }
  if (!any) return {};

  std::vector<ScoredItem> out;
  out.reserve(m);
  for (size_t c = 0; c < m; ++c) {
    if (seen[c] && !include_history) continue;
    if (accept && !accept(r.items[c])) continue;
    out.push_back({r.items[c], scores[c]});
  }
  auto better = [](const ScoredItem& a, const ScoredItem& b) {
    return a.score != b.score ? a.score > b.score : a.item < b.item;
  };
  if (out.size() > n) {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), better);
    out.resize(n);
  } else {
    std::sort(out.begin(), out.end(), better);
  }
  return out;
}

double EaseModel::weight(uint32_t from, uint32_t to) const {
  const auto a = rep_->column_of(from), b = rep_->column_of(to);
  if (!a || !b) return 0;
  return rep_->b[static_cast<size_t>(*a) * rep_->items.size() + *b];
}

bool EaseModel::modeled(uint32_t item) const { return rep_->column_of(item).has_value(); }
const std::vector<uint32_t>& EaseModel::items() const { return rep_->items; }
const EaseModel::Stats& EaseModel::stats() const { return rep_->stats; }
const EaseOptions& EaseModel::options() const { return rep_->opts; }

}  // namespace trove
