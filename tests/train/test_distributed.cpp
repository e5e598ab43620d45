// DataParallel: the backend choice (and its errors) for every case; two ranks in one process
// (threads, Gloo over loopback) average gradients, AdamW's flat gradient buffer and scalars to the
// hand-computed means; on a GPU with NCCL built in, a one-process NCCL group runs the same calls
// (skipped elsewhere).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <future>

#include "train/adamw.h"
#include "train/distributed.h"
#include "util/error.h"

using namespace lntune;

namespace {

std::string backend_error(const std::string& requested, bool cuda, bool nccl) {
  try {
    DataParallel::resolve_backend(requested, cuda, nccl, "run.json", "train.dist_backend");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A TCP port nobody listens on now (bound to 0, read back, released).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t n = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) != 0)
    throw std::runtime_error("no free port");
  close(fd);
  return ntohs(a.sin_port);
}

struct RankResult {
  torch::Tensor grad, flat_a, flat_b;
  double mean = 0;
};

// One rank's share: a parameter whose gradient is (rank + 1) * [1, 2, 3], one without a gradient,
// the scalar rank, and AdamW's flat gradient buffer (fused) holding (rank + 1) and 2 (rank + 1),
// all-reduced in place as the trainer does; returns the averages.
RankResult run_rank(int rank, int world, int port, const torch::Device& device,
                                          const std::string& backend) {
  auto dp = DataParallel::connect(rank, world, "127.0.0.1", port, 0);
  dp->start(device, backend);
  auto with_grad = torch::zeros({3}, torch::TensorOptions().device(device).requires_grad(true));
  with_grad.mutable_grad() = torch::tensor({1.0f, 2.0f, 3.0f}).to(device) * static_cast<float>(rank + 1);
  auto without_grad = torch::zeros({2}, torch::TensorOptions().device(device).requires_grad(true));
  dp->average_gradients({with_grad, without_grad});
  EXPECT_FALSE(without_grad.grad().defined());
  double mean = dp->average(static_cast<double>(rank));
  auto opts = torch::TensorOptions().device(device).requires_grad(true);
  auto a = torch::zeros({2, 3}, opts), b = torch::zeros({5}, opts);
  AdamW opt({{"a", a, 0.01, {}, {}}, {"b", b, 0.0, {}, {}}});
  EXPECT_EQ(opt.impl(), "fused");
  a.mutable_grad().fill_(static_cast<float>(rank + 1));  // in place: the gradients are the buffer's views
  b.mutable_grad().fill_(static_cast<float>(2 * (rank + 1)));
  auto buffers = opt.gradient_buffers();
  EXPECT_EQ(buffers.size(), 1u);
  dp->average_buffers(buffers);
  dp->barrier();
  return {with_grad.grad().cpu(), a.grad().cpu(), b.grad().cpu(), mean};
}

}  // namespace

TEST(Distributed, ResolveBackend) {
  EXPECT_EQ(DataParallel::resolve_backend("auto", false, false, "r", "k"), "gloo");
  EXPECT_EQ(DataParallel::resolve_backend("auto", false, true, "r", "k"), "gloo");  // CPU tensors: Gloo
  EXPECT_EQ(DataParallel::resolve_backend("auto", true, false, "r", "k"), "gloo");  // GPU, no NCCL here
  EXPECT_EQ(DataParallel::resolve_backend("auto", true, true, "r", "k"), "nccl");
  EXPECT_EQ(DataParallel::resolve_backend("gloo", true, true, "r", "k"), "gloo");
  EXPECT_EQ(DataParallel::resolve_backend("nccl", true, true, "r", "k"), "nccl");
  EXPECT_EQ(backend_error("nccl", false, true),
            "run.json: train.dist_backend: nccl needs the run on a GPU (train.device), this one is on the CPU");
  EXPECT_NE(backend_error("nccl", true, false).find("run.json: train.dist_backend: nccl: this build has no NCCL"), std::string::npos);
  EXPECT_EQ(backend_error("mpi", true, true), "run.json: train.dist_backend: 'mpi' is not one of auto, gloo, nccl");
  // A build without Gloo (PyTorch's CUDA wheels ship no gloo headers): NCCL on GPUs or nothing.
  EXPECT_EQ(DataParallel::resolve_backend("auto", true, true, "r", "k", false), "nccl");
  EXPECT_EQ(DataParallel::resolve_backend("nccl", true, true, "r", "k", false), "nccl");
  auto no_gloo = [](const std::string& requested, bool cuda, bool nccl) {
    try {
      DataParallel::resolve_backend(requested, cuda, nccl, "run.json", "train.dist_backend", false);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(no_gloo("gloo", true, true),
            "run.json: train.dist_backend: gloo: this build has no Gloo (its LibTorch ships no gloo headers); use nccl");
  EXPECT_EQ(no_gloo("auto", false, true),
            "run.json: train.dist_backend: gloo: this build has no Gloo (its LibTorch ships no gloo headers): data parallel "
            "needs NCCL and a run on GPUs here");
  EXPECT_NE(no_gloo("auto", true, false).find("data parallel needs NCCL"), std::string::npos);
}

TEST(Distributed, TwoRanksAverageOverGloo) {
  if (!DataParallel::gloo_built()) GTEST_SKIP() << "this build has no Gloo (its LibTorch ships no gloo headers)";
  const int port = free_port();
  auto r1 = std::async(std::launch::async, run_rank, 1, 2, port, torch::Device(torch::kCPU), "gloo");
  auto r0 = run_rank(0, 2, port, torch::kCPU, "gloo");
  auto r1r = r1.get();
  // Gradients 1x and 2x [1, 2, 3]: the mean is 1.5x; the ranks' scalars 0 and 1: 0.5.
  auto want = torch::tensor({1.5f, 3.0f, 4.5f});
  for (const auto& r : {r0, r1r}) {
    EXPECT_TRUE(torch::equal(r.grad, want)) << r.grad;
    EXPECT_EQ(r.mean, 0.5);
    EXPECT_TRUE(torch::equal(r.flat_a, torch::full({2, 3}, 1.5f))) << r.flat_a;
    EXPECT_TRUE(torch::equal(r.flat_b, torch::full({5}, 3.0f))) << r.flat_b;
  }
}

TEST(Distributed, OneGpuNccl) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the NCCL path runs on the GPU machine";
  if (!DataParallel::nccl_built()) GTEST_SKIP() << "this build has no NCCL (cmake/nccl.cmake said why)";
  // One GPU holds one NCCL rank: a world of 1 runs the calls; the averages are the inputs.
  auto r = run_rank(0, 1, free_port(), torch::Device(torch::kCUDA, 0), "nccl");
  EXPECT_TRUE(torch::equal(r.grad, torch::tensor({1.0f, 2.0f, 3.0f}))) << r.grad;
  EXPECT_EQ(r.mean, 0.0);
  EXPECT_TRUE(torch::equal(r.flat_a, torch::full({2, 3}, 1.0f))) << r.flat_a;
  EXPECT_TRUE(torch::equal(r.flat_b, torch::full({5}, 2.0f))) << r.flat_b;
}
