#include "train/distributed.h"

// Gloo: Debian's LibTorch ships its headers; PyTorch's CUDA wheels are built with Gloo but ship
// no gloo/ headers, so there ProcessGroupGloo cannot be compiled against and NCCL carries
// everything (a CPU run cannot be data parallel in such a build: resolve_backend says so).
#if __has_include(<gloo/algorithm.h>)
#define LNTUNE_WITH_GLOO 1
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1  // its header is guarded
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
// NCCL only where cmake/nccl.cmake found that its header builds against this LibTorch (it then
// defines USE_C10D_NCCL, which un-guards the header, and LNTUNE_WITH_NCCL for this file alone).
#ifdef LNTUNE_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <string>

#include "util/error.h"

namespace lntune {

struct DataParallel::Impl {
  c10::intrusive_ptr<c10d::Store> store;
#ifdef LNTUNE_WITH_GLOO
  // Where built: the barrier, and every collective unless NCCL carries them.
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
#ifdef LNTUNE_WITH_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  torch::Device device = torch::kCPU;  // where average()'s scalar lives: the GPU under NCCL

  // Sum over the processes, in place.
  void allreduce(std::vector<torch::Tensor>& tensors) {
#ifdef LNTUNE_WITH_NCCL
    // wait() makes the current CUDA stream wait for NCCL's: what follows on it sees the sum.
    if (nccl) {
      nccl->allreduce(tensors)->wait();
      return;
    }
#endif
#ifdef LNTUNE_WITH_GLOO
    gloo->allreduce(tensors)->wait();
#else
    TORCH_CHECK(false, "data parallel: no collective backend started (this build has no Gloo)");
#endif
  }
  ~Impl() {
#ifdef LNTUNE_WITH_NCCL
    // An orderly end: without it PyTorch's NCCL group warns at exit that it was never shut down.
    // (A destructor must not throw: a failing shutdown is left to the process's exit.)
    if (nccl) {
      try {
        nccl->shutdown();
      } catch (const std::exception&) {
      }
    }
#endif
  }
};

namespace {
std::string env(const char* name, const char* fallback = nullptr) {
  const char* v = std::getenv(name);
  if (v && *v) return v;
  if (fallback) return fallback;
  throw Error(std::string("environment: ") + name + ": missing (set RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)");
}
int env_int(const char* name, const char* fallback = nullptr) {
  std::string v = env(name, fallback);
  try {
    size_t used = 0;
    int x = std::stoi(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    throw Error(std::string("environment: ") + name + ": '" + v + "' is not an integer");
  }
}

// LibTorch >= 2.4 serves the store with libuv by default (TCPStoreOptions::useLibUV) and throws
// when it was built without it, as Debian's 2.6 is; 1.13 has no such option. These set it where
// the member exists and do nothing where it does not.
template <typename Options>
auto set_libuv(Options& o, bool on, int) -> decltype(o.useLibUV = on, void()) {
  o.useLibUV = on;
}
template <typename Options>
void set_libuv(Options&, bool, long) {}

// The store rank 0 serves and every rank connects to. USE_LIBUV=0 picks the classic backend, as
// in PyTorch; otherwise LibTorch's default, and the classic one where this LibTorch has no libuv.
c10::intrusive_ptr<c10d::Store> tcp_store(const std::string& addr, c10d::TCPStoreOptions so) {
  const char* uv = std::getenv("USE_LIBUV");
  if (uv && std::string(uv) == "0") set_libuv(so, false, 0);
  try {
    return c10::make_intrusive<c10d::TCPStore>(addr, so);
  } catch (const c10::Error& e) {
    if (std::string(e.what()).find("libuv") == std::string::npos) throw;
    set_libuv(so, false, 0);
    return c10::make_intrusive<c10d::TCPStore>(addr, so);
  }
}
}  // namespace

int DataParallel::world_from_env() {
  const char* ws = std::getenv("WORLD_SIZE");
  return ws && *ws ? env_int("WORLD_SIZE") : 1;
}

std::unique_ptr<DataParallel> DataParallel::from_env() {
  const int world = world_from_env();
  if (world <= 1) return nullptr;
  int rank = env_int("RANK");
  if (rank < 0 || rank >= world) throw Error("environment: RANK: " + std::to_string(rank) + " is not in [0, WORLD_SIZE)");
  std::string addr = env("MASTER_ADDR", "127.0.0.1");
  int port = env_int("MASTER_PORT", "29500");
  if (port <= 0 || port > 65535) throw Error("environment: MASTER_PORT: " + std::to_string(port) + " is not a port");
  int local_rank = env_int("LOCAL_RANK", std::getenv("SLURM_LOCALID") ? std::getenv("SLURM_LOCALID") : "0");
  return connect(rank, world, addr, port, local_rank);
}

std::unique_ptr<DataParallel> DataParallel::connect(int rank, int world, const std::string& addr, int port, int local_rank) {
  TORCH_CHECK(world >= 1 && rank >= 0 && rank < world, "data parallel: rank ", rank, " of ", world);
  TORCH_CHECK(port > 0 && port <= 65535, "data parallel: port ", port, " is not a port");
  std::unique_ptr<DataParallel> dp(new DataParallel());
  dp->rank_ = rank;
  dp->world_ = world;
  dp->local_rank_ = local_rank;
  dp->impl_ = std::make_unique<Impl>();
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(port);
  so.isServer = rank == 0;
  so.numWorkers = static_cast<size_t>(world);
  so.timeout = std::chrono::seconds(120);
  dp->impl_->store = tcp_store(addr, so);
#ifdef LNTUNE_WITH_GLOO
  auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(600));
  // GLOO_SOCKET_IFNAME picks the interface as in PyTorch; else the address the master uses.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  else
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(addr));
  opts->threads = 1;
  dp->impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(dp->impl_->store, rank, world, opts);
#endif
  return dp;
}

bool DataParallel::nccl_built() {
#ifdef LNTUNE_WITH_NCCL
  return true;
#else
  return false;
#endif
}

bool DataParallel::gloo_built() {
#ifdef LNTUNE_WITH_GLOO
  return true;
#else
  return false;
#endif
}

std::string DataParallel::resolve_backend(const std::string& requested, bool cuda, bool nccl_available,
                                          const std::string& source, const std::string& key, bool gloo_available) {
  if (requested != "auto" && requested != "gloo" && requested != "nccl")
    fail(source, key, "'" + requested + "' is not one of auto, gloo, nccl");
  if (requested == "gloo" || (requested == "auto" && !(cuda && nccl_available))) {
    if (!gloo_available)
      fail(source, key, std::string("gloo: this build has no Gloo (its LibTorch ships no gloo headers)") +
                            (cuda && nccl_available ? "; use nccl" : ": data parallel needs NCCL and a run on GPUs here"));
    return "gloo";
  }
  if (!cuda) fail(source, key, "nccl needs the run on a GPU (train.device), this one is on the CPU");
  if (!nccl_available)
    fail(source, key, "nccl: this build has no NCCL (its LibTorch lacks it, or nccl.h was not found at configure time); use gloo");
  return "nccl";
}

void DataParallel::start(const torch::Device& device, const std::string& backend) {
  backend_ = backend;
  if (backend != "nccl") return;
#ifdef LNTUNE_WITH_NCCL
  impl_->device = device;
  TORCH_CHECK(device.is_cuda() && device.has_index(), "data parallel: nccl needs a CUDA device with an index, got ", device.str());
  // NCCL binds each communicator to the current device: this process's GPU, before the first one.
  c10::cuda::set_device(device.index());
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = std::chrono::milliseconds(600 * 1000);
  // Its own key space in the store (Gloo's too, where built), as torch.distributed does per backend.
  impl_->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("nccl", impl_->store),
                                                            rank_, world_, opts);
#else
  TORCH_CHECK(false, "data parallel: this build has no NCCL");
#endif
}

DataParallel::~DataParallel() = default;

int64_t DataParallel::bucket_elements(const std::vector<torch::Tensor>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

void DataParallel::average_gradients(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  average_buffers(grads);
}

void DataParallel::average_buffers(const std::vector<torch::Tensor>& buffers) {
  if (buffers.empty()) return;
  if (buffers.size() == 1 && buffers[0].is_contiguous()) {  // AdamW's flat gradient buffer: in place
    std::vector<torch::Tensor> one = {buffers[0]};
    impl_->allreduce(one);
    buffers[0].div_(world_);
    return;
  }
  std::vector<torch::Tensor> bucket = {torch::cat([&] {
    std::vector<torch::Tensor> flat;
    for (const auto& g : buffers) flat.push_back(g.reshape({-1}));
    return flat;
  }())};
  impl_->allreduce(bucket);
  bucket[0].div_(world_);
  int64_t off = 0;
  for (const auto& g : buffers) {
    g.copy_(bucket[0].narrow(0, off, g.numel()).view_as(g));
    off += g.numel();
  }
}

double DataParallel::average(double value) {
  std::vector<torch::Tensor> t = {torch::full({1}, value, torch::TensorOptions().dtype(torch::kDouble).device(impl_->device))};
  impl_->allreduce(t);
  return t[0].item<double>() / world_;
}

// On Gloo even under NCCL where built: a host-side rendezvous (the end of training, before rank 0
// writes); else NCCL's barrier (a collective on the GPU, synchronised with).
void DataParallel::barrier() {
#ifdef LNTUNE_WITH_GLOO
  impl_->gloo->barrier()->wait();
#elif defined(LNTUNE_WITH_NCCL)
  TORCH_CHECK(impl_->nccl, "data parallel: barrier before start()");
  impl_->nccl->barrier()->wait();
  c10::cuda::device_synchronize();
#else
  TORCH_CHECK(false, "data parallel: this build has neither Gloo nor NCCL");
#endif
}

}  // namespace lntune
