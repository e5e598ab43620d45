// A training step replayed as a CUDA graph (`train.cuda_graphs`, `bench-train --cuda-graphs`).
//
// Why: on an H100 a BERT-base LN-Tuning step at batch 32 x 128 took ~30 ms where its arithmetic
// needs a few: it is made of ~600 operators (src/train/op_count.h), each costing the host
// dispatch, autograd bookkeeping and a kernel launch. Captured once, the whole step (forward,
// backward, clipping, optimizer update) is one graph launch.
//
// How: the step is a function of its input tensors. Each input shape is first run eagerly
// `warmup` times (lazy initialisation: cuBLAS handles and workspaces, autograd, the allocator),
// then captured on a side stream into a graph whose memory comes from one pool shared by every
// shape's graph, then replayed: the inputs are copied into the graph's own static tensors first.
// Shapes past `max_graphs` keep running eagerly.
//
// What the step may do, since a replay repeats its kernels and none of its host code:
// - read inputs only through the tensors it is given;
// - change state only in place, in tensors that outlive it (parameters, optimizer state, a loss
//   sum), and take per-step host values from device memory the host rewrites before the replay
//   (AdamW's scalars_on_device, AdamW::begin_step);
// - never wait on the GPU (no .item(), no data-dependent shapes), never allocate pinned memory.
//   The first eager step is watched for such operators (op_count.h's device_syncing_ops), and
//   finding one is an error naming it, before any capture.
// Dropout stays random: capture registers the CUDA generator and each replay advances it.
// One process only: the data-parallel all-reduce is not captured.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lntune {

struct StepGraphOptions {
  int64_t warmup = 2;       // eager steps of a shape before it is captured
  int64_t max_graphs = 16;  // shapes captured at most; the rest stay eager
  // What a step that cannot be captured does (one that waits for the device, a failed capture):
  // false, an lntune::Error naming why (train.cuda_graphs true); true, a warning, and every step
  // from then on eager (train.cuda_graphs "auto": the run goes on as without graphs).
  bool eager_on_failure = false;
};

class StepGraphs {
 public:
  using Step = std::function<void(const std::vector<torch::Tensor>& inputs)>;
  enum class Ran { Eager, Captured, Replayed };

  // Throws lntune::Error in a build without CUDA graphs (LibTorch without CUDA).
  explicit StepGraphs(Step step, StepGraphOptions options = {});
  ~StepGraphs();
  StepGraphs(const StepGraphs&) = delete;
  StepGraphs& operator=(const StepGraphs&) = delete;

  // One step on `inputs` (CUDA tensors; undefined ones allowed, they stay undefined): eager,
  // captured then replayed (a capture runs nothing, so the first replay follows it at once), or
  // replayed. A failed capture is an lntune::Error saying so.
  Ran run(const std::vector<torch::Tensor>& inputs);
  // Whether run(inputs) would capture: the caller must first stop other threads' CUDA work (a
  // capture forbids e.g. another thread's host-to-device copies from pageable memory).
  bool will_capture(const std::vector<torch::Tensor>& inputs) const;
  int64_t graphs() const;
  // Why graphs were turned off (eager_on_failure), else empty.
  const std::string& off_reason() const;

  // Whether this build can capture (LibTorch with CUDA).
  static bool available();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `f` run `warmup` times eagerly, then captured once as a CUDA graph on `device`'s side stream;
// returns a function that replays it on the current stream. For timing GPU work without its
// host cost (bench-norm --timing graph): `f` may only touch tensors that outlive the returned
// function. Throws lntune::Error in a build without CUDA graphs.
std::function<void()> replayable(const std::function<void()>& f, const torch::Device& device, int warmup = 2);

}  // namespace lntune
