#include "train/step_graph.h"

#include <map>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "train/op_count.h"
#include "util/error.h"
#ifdef LNTUNE_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace lntune {

#ifdef LNTUNE_WITH_CUDA

namespace {

// What a graph is specific to: each input's dtype and shape (addresses are the graph's own).
std::vector<int64_t> shape_key(const std::vector<torch::Tensor>& inputs) {
  std::vector<int64_t> key;
  for (const auto& t : inputs) {
    if (!t.defined()) {
      key.push_back(-1);
      continue;
    }
    key.push_back(static_cast<int64_t>(t.scalar_type()));
    key.push_back(t.dim());
    for (int64_t s : t.sizes()) key.push_back(s);
  }
  return key;
}

// `f` captured into a new graph on `stream`, its memory from `pool` (by default the graph's own),
// with nothing in flight when the capture begins (as torch.cuda.graph does) and on a side stream
// (the legacy default stream cannot be captured). If `f` throws, the capture is ended first
// (leaving the stream out of capture mode) and the error rethrown.
std::unique_ptr<at::cuda::CUDAGraph> capture_graph(c10::cuda::CUDAStream stream, const std::function<void()>& f,
                                                   decltype(at::cuda::graph_pool_handle()) pool = {}) {
  c10::cuda::device_synchronize();
  auto graph = std::make_unique<at::cuda::CUDAGraph>();
  c10::cuda::CUDAStreamGuard on_side(stream);
  graph->capture_begin(pool);
  try {
    f();
  } catch (...) {
    try {
      graph->capture_end();  // throws for an invalidated capture
    } catch (...) {
    }
    throw;
  }
  graph->capture_end();
  return graph;
}

}  // namespace

struct StepGraphs::Impl {
  Step step;
  StepGraphOptions options;
  struct Shape {
    int64_t eager = 0;
    std::vector<torch::Tensor> inputs;  // the graph's static inputs
    std::unique_ptr<at::cuda::CUDAGraph> graph;
  };
  std::map<std::vector<int64_t>, Shape> shapes;
  decltype(at::cuda::graph_pool_handle()) pool{};
  bool have_pool = false;
  // Every capture on one side stream (as torch.cuda.graph's default capture stream): what is made
  // on first use per stream (cuBLAS's workspace) is made once.
  std::optional<c10::cuda::CUDAStream> stream;
  int64_t captured = 0;
  bool checked = false;  // the first step watched for operators that wait for the device
  std::string off;       // why every step now runs eagerly (eager_on_failure)

  // A step that cannot be captured: an error, or (eager_on_failure) graphs off from now on.
  void give_up(const std::string& why) {
    if (!options.eager_on_failure) throw Error(why + ": run without train.cuda_graphs");
    off = why;
    spdlog::warn("{}: every step runs eagerly from now on", why);
  }

  // Whether the next step of `shape` is captured: it has no graph, has run its eager warm-up, and
  // there is room for another graph.
  bool capture_due(const Shape& shape) const {
    return !shape.graph && shape.eager >= options.warmup && captured < options.max_graphs;
  }

  Ran capture(Shape& shape, const std::vector<torch::Tensor>& inputs) {
    c10::DeviceIndex device = -1;
    for (const auto& t : inputs) {
      if (!t.defined()) continue;
      if (!t.is_cuda()) throw Error("CUDA graphs: the step's inputs must be CUDA tensors, got one on " + t.device().str());
      device = t.device().index();
    }
    if (device < 0) throw Error("CUDA graphs: the step has no defined input");
    // The graph's own inputs hold this step's values: the replay after the capture is this step.
    for (const auto& t : inputs) shape.inputs.push_back(t.defined() ? t.clone() : t);
    if (!have_pool) {
      pool = at::cuda::graph_pool_handle();
      stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device);
      have_pool = true;
    }
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    try {
      graph = capture_graph(*stream, [&] { step(shape.inputs); }, pool);
    } catch (const std::exception& e) {
      shape.inputs.clear();
      give_up(std::string("CUDA graphs: capturing the training step failed (") + e.what() + ")");
      step(inputs);  // a capture runs nothing: this step is still to do
      return Ran::Eager;
    }
    graph->replay();
    shape.graph = std::move(graph);
    ++captured;
    return Ran::Captured;
  }
};

StepGraphs::StepGraphs(Step step, StepGraphOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.warmup < 1) throw Error("CUDA graphs: warmup must be at least 1 eager step, got " + std::to_string(options.warmup));
  impl_->step = std::move(step);
  impl_->options = options;
}

StepGraphs::Ran StepGraphs::run(const std::vector<torch::Tensor>& inputs) {
  if (!impl_->off.empty()) {
    impl_->step(inputs);
    return Ran::Eager;
  }
  auto& shape = impl_->shapes[shape_key(inputs)];
  if (shape.graph) {
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].defined()) shape.inputs[i].copy_(inputs[i], /*non_blocking=*/true);
    shape.graph->replay();
    return Ran::Replayed;
  }
  if (!impl_->capture_due(shape)) {
    ++shape.eager;
    if (impl_->checked) {
      impl_->step(inputs);
      return Ran::Eager;
    }
    // The first step is watched for operators that wait for the device: a capture would fail on
    // them with CUDA's "operation not permitted when stream is capturing"; this names them.
    impl_->checked = true;
    const auto found = device_syncing_ops([&] { impl_->step(inputs); });
    if (!found.empty()) {
      std::string names;
      for (const auto& n : found) names += (names.empty() ? "" : ", ") + n;
      impl_->give_up("CUDA graphs: the training step waits for the device (" + names +
                     "), which a CUDA graph cannot hold");
    }
    return Ran::Eager;
  }
  return impl_->capture(shape, inputs);
}

bool StepGraphs::will_capture(const std::vector<torch::Tensor>& inputs) const {
  if (!impl_->off.empty()) return false;
  auto it = impl_->shapes.find(shape_key(inputs));
  return it != impl_->shapes.end() && impl_->capture_due(it->second);
}

int64_t StepGraphs::graphs() const { return impl_->captured; }

const std::string& StepGraphs::off_reason() const { return impl_->off; }

bool StepGraphs::available() { return true; }

std::function<void()> replayable(const std::function<void()>& f, const torch::Device& device, int warmup) {
  if (!device.is_cuda()) throw Error("CUDA graphs: replayable needs a CUDA device, got " + device.str());
  for (int i = 0; i < warmup; ++i) f();
  std::shared_ptr<at::cuda::CUDAGraph> graph =
      capture_graph(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index()), f);
  return [graph] { graph->replay(); };
}

#else  // a LibTorch without CUDA: nothing to capture

struct StepGraphs::Impl {
  std::string off;
};

StepGraphs::StepGraphs(Step, StepGraphOptions) {
  throw Error("CUDA graphs: this build of lntune has no CUDA (LibTorch without CUDA)");
}
StepGraphs::Ran StepGraphs::run(const std::vector<torch::Tensor>&) { return Ran::Eager; }
bool StepGraphs::will_capture(const std::vector<torch::Tensor>&) const { return false; }
int64_t StepGraphs::graphs() const { return 0; }
const std::string& StepGraphs::off_reason() const { return impl_->off; }
bool StepGraphs::available() { return false; }
std::function<void()> replayable(const std::function<void()>&, const torch::Device&, int) {
  throw Error("CUDA graphs: this build of lntune has no CUDA (LibTorch without CUDA)");
}

#endif

StepGraphs::~StepGraphs() = default;

}  // namespace lntune
