// tokki/discover/als.h — implicit-feedback matrix factorisation (alternating least squares
// after Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback Datasets").
//
// Every (user, item) pair has a preference p (1 = liked, 0 = not) and a confidence c >= 1;
// unobserved pairs count as p = 0, c = 1. Passes are observed p = 0 pairs with c > 1.
// TrainAls() returns an immutable MfModel that readers share through a shared_ptr; a user
// absent from training (or whose swipes changed since) is folded in at request time with
// MfModel::FoldIn(), one small k x k solve.
//
// Thread safety: TrainAls is a pure function; a MfModel is immutable and safe to share.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <vector>

namespace tokki::discover {

struct AlsOptions {
  int n_factors = 32;
  int n_iterations = 6;
  float regularization = 0.5f;            // lambda added to every row's normal equations
  float regularization_per_entry = 0.0f;  // plus this times the row's number of entries
  uint64_t seed = 1;
};

// One observed (user, item) pair. `user` and `item` are dense row numbers.
struct AlsEntry {
  uint32_t user = 0;
  uint32_t item = 0;
  float preference = 0.0f;  // 1 or 0
  float confidence = 1.0f;  // >= 1
};

// An observed item for FoldIn().
struct FoldInEntry {
  uint32_t item = 0;
  float preference = 0.0f;
  float confidence = 1.0f;
};

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class MfModel {
 public:
  MfModel(RowMatrixXf item_factors, float regularization, float regularization_per_entry = 0.0f);

  int n_factors() const { return static_cast<int>(item_factors_.cols()); }
  size_t n_items() const { return static_cast<size_t>(item_factors_.rows()); }
  const RowMatrixXf& item_factors() const { return item_factors_; }

  // The user factor that best explains `entries` given the item factors (one ALS user step).
  // Entries whose item >= n_items() are ignored. Returns zeros when nothing is positive.
  Eigen::VectorXf FoldIn(const std::vector<FoldInEntry>& entries) const;

  // scores[i] = item_factors.row(i) . user for every item.
  void ScoreAll(const Eigen::VectorXf& user, Eigen::VectorXf& scores) const;

 private:
  RowMatrixXf item_factors_;  // n_items x k
  Eigen::MatrixXf gram_;      // Y^T Y + regularization * I
  float reg_per_entry_ = 0.0f;
};

// Trains on `entries` (at most one per (user, item) pair). Items without any entry get a
// zero factor. Single-threaded; deterministic for a given seed.
std::shared_ptr<const MfModel> TrainAls(size_t n_users, size_t n_items,
                                        const std::vector<AlsEntry>& entries,
                                        const AlsOptions& options);

}  // namespace tokki::discover
