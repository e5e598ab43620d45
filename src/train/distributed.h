// Multi-process data parallel on LibTorch's c10d (Gloo over TCP; on GPUs Gloo reduces the CUDA
// tensors through host memory — NCCL is not wired in yet), configured by the usual
// torchrun/Slurm environment: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK picks the
// GPU when there is one). Only trainable gradients travel: one flattened bucket per step.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <vector>

namespace lntune {

class DataParallel {
 public:
  // nullptr when WORLD_SIZE is unset or 1. Errors name the variable that is missing or wrong.
  static std::unique_ptr<DataParallel> from_env();
  ~DataParallel();
  int rank() const { return rank_; }
  int world() const { return world_; }
  // This process's GPU on its node: LOCAL_RANK (torchrun), else SLURM_LOCALID, else 0.
  int local_rank() const { return local_rank_; }
  bool is_main() const { return rank_ == 0; }
  // Replaces every defined .grad() of `params` by its mean over the processes.
  void average_gradients(const std::vector<torch::Tensor>& params);
  double average(double value);  // mean of a scalar over the processes (logged losses)
  void barrier();
  // Elements sent per step by average_gradients for these tensors (for the design notes).
  static int64_t bucket_elements(const std::vector<torch::Tensor>& params);

 private:
  DataParallel() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_ = 1, local_rank_ = 0;
};

}  // namespace lntune
