#include "train/distributed.h"

// LibTorch was built with Gloo (Debian's and PyTorch's wheels are); its header is guarded.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <string>

#include "util/error.h"

namespace lntune {

struct DataParallel::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
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
}  // namespace

std::unique_ptr<DataParallel> DataParallel::from_env() {
  const char* ws = std::getenv("WORLD_SIZE");
  if (!ws || !*ws) return nullptr;
  int world = env_int("WORLD_SIZE");
  if (world <= 1) return nullptr;
  int rank = env_int("RANK");
  if (rank < 0 || rank >= world) throw Error("environment: RANK: " + std::to_string(rank) + " is not in [0, WORLD_SIZE)");
  std::string addr = env("MASTER_ADDR", "127.0.0.1");
  int port = env_int("MASTER_PORT", "29500");
  if (port <= 0 || port > 65535) throw Error("environment: MASTER_PORT: " + std::to_string(port) + " is not a port");
  std::unique_ptr<DataParallel> dp(new DataParallel());
  dp->rank_ = rank;
  dp->world_ = world;
  dp->local_rank_ = env_int("LOCAL_RANK", std::getenv("SLURM_LOCALID") ? std::getenv("SLURM_LOCALID") : "0");
  dp->impl_ = std::make_unique<Impl>();
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(port);
  so.isServer = rank == 0;
  so.numWorkers = static_cast<size_t>(world);
  so.timeout = std::chrono::seconds(120);
  dp->impl_->store = c10::make_intrusive<c10d::TCPStore>(addr, so);
  auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(600));
  // GLOO_SOCKET_IFNAME picks the interface as in PyTorch; else the address the master uses.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  else
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(addr));
  opts->threads = 1;
  dp->impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(dp->impl_->store, rank, world, opts);
  return dp;
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
  if (grads.empty()) return;
  std::vector<torch::Tensor> bucket = {torch::cat([&] {
    std::vector<torch::Tensor> flat;
    for (const auto& g : grads) flat.push_back(g.reshape({-1}));
    return flat;
  }())};
  impl_->pg->allreduce(bucket)->wait();
  bucket[0].div_(world_);
  int64_t off = 0;
  for (auto& g : grads) {
    g.copy_(bucket[0].narrow(0, off, g.numel()).view_as(g));
    off += g.numel();
  }
}

double DataParallel::average(double value) {
  std::vector<torch::Tensor> t = {torch::full({1}, value, torch::kDouble)};
  impl_->pg->allreduce(t)->wait();
  return t[0].item<double>() / world_;
}

void DataParallel::barrier() { impl_->pg->barrier()->wait(); }

}  // namespace lntune
