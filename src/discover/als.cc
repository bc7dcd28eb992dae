#include "discover/als.h"

#include <random>

namespace tokki::discover {
namespace {

struct Csr {
  std::vector<uint32_t> offsets;  // n_rows + 1
  std::vector<uint32_t> cols;
  std::vector<float> pref;
  std::vector<float> conf;
};

Csr BuildCsr(size_t n_rows, const std::vector<AlsEntry>& entries, bool by_user) {
  Csr m;
  m.offsets.assign(n_rows + 1, 0);
  for (const auto& e : entries) ++m.offsets[(by_user ? e.user : e.item) + 1];
  for (size_t r = 0; r < n_rows; ++r) m.offsets[r + 1] += m.offsets[r];
  m.cols.resize(entries.size());
  m.pref.resize(entries.size());
  m.conf.resize(entries.size());
  std::vector<uint32_t> fill(m.offsets.begin(), m.offsets.end() - 1);
  for (const auto& e : entries) {
    const uint32_t row = by_user ? e.user : e.item;
    const uint32_t at = fill[row]++;
    m.cols[at] = by_user ? e.item : e.user;
    m.pref[at] = e.preference;
    m.conf[at] = e.confidence;
  }
  return m;
}

// One half-step: solves every row of `out` given the fixed factors `fixed`.
void SolveRows(const Csr& m, const RowMatrixXf& fixed, float reg, float reg_per_entry,
               RowMatrixXf& out) {
  const int k = static_cast<int>(fixed.cols());
  Eigen::MatrixXf gram = fixed.transpose() * fixed;
  gram.diagonal().array() += reg;
  Eigen::MatrixXf a(k, k);
  Eigen::VectorXf b(k);
  Eigen::LLT<Eigen::MatrixXf> llt(k);
  const size_t n_rows = m.offsets.size() - 1;
  for (size_t r = 0; r < n_rows; ++r) {
    const uint32_t begin = m.offsets[r], end = m.offsets[r + 1];
    bool any_positive = false;
    for (uint32_t j = begin; j < end; ++j) any_positive |= m.pref[j] > 0;
    if (!any_positive) {
      out.row(r).setZero();
      continue;
    }
    a = gram;
    a.diagonal().array() += reg_per_entry * static_cast<float>(end - begin);
    b.setZero();
    for (uint32_t j = begin; j < end; ++j) {
      const auto y = fixed.row(m.cols[j]).transpose();
      a.selfadjointView<Eigen::Lower>().rankUpdate(y, m.conf[j] - 1.0f);
      if (m.pref[j] > 0) b.noalias() += (m.conf[j] * m.pref[j]) * y;
    }
    llt.compute(a);
    out.row(r) = llt.solve(b).transpose();
  }
}

}  // namespace

MfModel::MfModel(RowMatrixXf item_factors, float regularization, float regularization_per_entry)
    : item_factors_(std::move(item_factors)), reg_per_entry_(regularization_per_entry) {
  gram_ = item_factors_.transpose() * item_factors_;
  gram_.diagonal().array() += regularization;
}

Eigen::VectorXf MfModel::FoldIn(const std::vector<FoldInEntry>& entries) const {
  const int k = n_factors();
  Eigen::VectorXf x = Eigen::VectorXf::Zero(k);
  Eigen::MatrixXf a = gram_;
  Eigen::VectorXf b = Eigen::VectorXf::Zero(k);
  bool any_positive = false;
  for (const auto& e : entries) {
    if (e.item >= n_items()) continue;
    a.diagonal().array() += reg_per_entry_;
    const auto y = item_factors_.row(e.item).transpose();
    a.selfadjointView<Eigen::Lower>().rankUpdate(y, e.confidence - 1.0f);
    if (e.preference > 0) {
      b.noalias() += (e.confidence * e.preference) * y;
      any_positive = true;
    }
  }
  if (!any_positive) return x;
  x = a.llt().solve(b);
  return x;
}

void MfModel::ScoreAll(const Eigen::VectorXf& user, Eigen::VectorXf& scores) const {
  scores.noalias() = item_factors_ * user;
}

std::shared_ptr<const MfModel> TrainAls(size_t n_users, size_t n_items,
                                        const std::vector<AlsEntry>& entries,
                                        const AlsOptions& options) {
  const int k = options.n_factors;
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  RowMatrixXf users = RowMatrixXf::Zero(static_cast<Eigen::Index>(n_users), k);
  RowMatrixXf items(static_cast<Eigen::Index>(n_items), k);
  for (Eigen::Index i = 0; i < items.rows(); ++i)
    for (int f = 0; f < k; ++f) items(i, f) = normal(rng);
  if (!entries.empty() && n_users > 0 && n_items > 0) {
    const Csr by_user = BuildCsr(n_users, entries, true);
    const Csr by_item = BuildCsr(n_items, entries, false);
    // Items nobody touched keep no factor.
    for (size_t i = 0; i < n_items; ++i)
      if (by_item.offsets[i] == by_item.offsets[i + 1]) items.row(i).setZero();
    for (int it = 0; it < options.n_iterations; ++it) {
      SolveRows(by_user, items, options.regularization, options.regularization_per_entry, users);
      SolveRows(by_item, users, options.regularization, options.regularization_per_entry, items);
    }
  } else {
    items.setZero();
  }
  return std::make_shared<const MfModel>(std::move(items), options.regularization,
                                         options.regularization_per_entry);
}

}  // namespace tokki::discover
