// Multi-process data parallel on LibTorch's c10d, configured by the usual torchrun/Slurm
// environment: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK picks the GPU when there is
// one). Collectives run on Gloo (TCP; CPU tensors, and CUDA ones through host memory) or, for a
// run on GPUs where LibTorch has it, NCCL (`train.dist_backend`). Only trainable gradients
// travel: one flat buffer per step (AdamW's, or a bucket concatenated for the call).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace lntune {

class DataParallel {
 public:
  // nullptr when WORLD_SIZE is unset or 1. Errors name the variable that is missing or wrong.
  static std::unique_ptr<DataParallel> from_env();
  // The same with explicit settings (from_env's; tests): rank 0 serves the rendezvous store on
  // addr:port, the others connect to it.
  static std::unique_ptr<DataParallel> connect(int rank, int world, const std::string& addr, int port, int local_rank);
  // WORLD_SIZE (1 when unset): whether from_env() will connect, before it does.
  static int world_from_env();
  ~DataParallel();

  // Which backend carries the collectives of a run on `cuda` (or CPU) tensors, for
  // `train.dist_backend` = auto | gloo | nccl: auto takes NCCL for CUDA tensors when this build has
  // it, else Gloo. Asking for nccl on a CPU run or in a build without it, or for Gloo (or auto
  // falling back to it) in a build without Gloo, is an error naming `source` and `key`.
  static std::string resolve_backend(const std::string& requested, bool cuda, bool nccl_available,
                                     const std::string& source, const std::string& key, bool gloo_available = true);
  // Whether this build has ProcessGroupNCCL (LibTorch with CUDA and NCCL; see cmake/nccl.cmake).
  static bool nccl_built();
  // Whether it has ProcessGroupGloo (its LibTorch ships gloo/ headers: Debian's does, PyTorch's
  // CUDA wheels do not).
  static bool gloo_built();
  // Puts the collectives on `device` over `backend` (resolve_backend's answer). Call once, after
  // the run's device is known and before the first collective; until then Gloo on the CPU.
  void start(const torch::Device& device, const std::string& backend);
  const std::string& backend() const { return backend_; }

  int rank() const { return rank_; }
  int world() const { return world_; }
  // This process's GPU on its node: LOCAL_RANK (torchrun), else SLURM_LOCALID, else 0.
  int local_rank() const { return local_rank_; }
  bool is_main() const { return rank_ == 0; }
  // Replaces every defined .grad() of `params` by its mean over the processes.
  void average_gradients(const std::vector<torch::Tensor>& params);
  // Replaces each tensor by its mean over the processes, in place: one contiguous tensor (AdamW's
  // flat gradient buffer) is all-reduced as it is, several through one concatenated bucket.
  void average_buffers(const std::vector<torch::Tensor>& buffers);
  double average(double value);  // mean of a scalar over the processes (logged losses)
  void barrier();
  // Elements sent per step by average_gradients for these tensors (for the design notes).
  static int64_t bucket_elements(const std::vector<torch::Tensor>& params);

 private:
  DataParallel() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_ = 1, local_rank_ = 0;
  std::string backend_ = "gloo";
};

}  // namespace lntune
