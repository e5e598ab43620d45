#include "emulation/cuda_emulation.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

// Switching between a block's fibers. glibc's swapcontext also saves and restores the signal mask,
// a system call on every switch: the kernels' barriers and shuffles switch hundreds of millions of
// times in the emulated tests, and that system call was ~90% of their time (perf: __swapcontext and
// the hypervisor's interrupt toggling; 110 s for CudaEmulation.ManyPartialSums). On x86-64 a switch
// is only what a called function must keep: the callee-saved registers and the stack pointer. The
// fibers never touch the signal mask or the floating-point control words, so those stay as they are.
#if defined(__x86_64__)
// lntune_emulation_switch(save, load): pushes the callee-saved registers, stores the stack pointer in
// *save, loads `load` as the stack pointer, pops that context's registers and returns into it.
extern "C" void lntune_emulation_switch(void** save, void* load);
asm(R"(
  .text
  .p2align 4
  .globl lntune_emulation_switch
  .hidden lntune_emulation_switch
  .type lntune_emulation_switch, @function
lntune_emulation_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size lntune_emulation_switch, .-lntune_emulation_switch
)");
#endif

namespace lntune::kernels::emulation {
namespace {

constexpr size_t kStackBytes = 64 * 1024;
constexpr unsigned kWarp = 32;

#if defined(__x86_64__)
struct Context {
  void* sp = nullptr;
};
void switch_context(Context& from, Context& to) { lntune_emulation_switch(&from.sp, to.sp); }
// A fresh context whose first switch returns into entry() at the top of the stack, aligned as if
// entry had been called (the System V ABI: %rsp + 8 a multiple of 16 at a function's first
// instruction). Its return address is null: entry never returns, and unwinders stop there.
void start_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  auto* top = reinterpret_cast<void**>(reinterpret_cast<uintptr_t>(stack + bytes) & ~uintptr_t{15});
  top[-1] = nullptr;                         // entry's return address
  top[-2] = reinterpret_cast<void*>(entry);  // where the switch returns to
  for (int i = 3; i <= 8; ++i) top[-i] = nullptr;  // the six registers the switch pops
  c.sp = top - 8;
}
#else
struct Context {
  ucontext_t uc{};
};
void switch_context(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
void start_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = bytes;
  c.uc.uc_link = nullptr;  // entry never returns
  makecontext(&c.uc, entry, 0);
}
#endif

struct Fiber {
  enum State { Ready, AtBlockBarrier, AtWarpBarrier, Done };
  Context ctx;
  std::unique_ptr<char[]> stack;
  State state = Ready;
};

// The block being run on this thread.
struct BlockRun {
  dim3 grid, block;
  Index block_index{};
  unsigned threads = 0;
  const std::function<void()>* body = nullptr;
  std::vector<Fiber> fibers;
  Context scheduler;
  unsigned current = 0;
  unsigned live = 0, at_block = 0;
  std::vector<unsigned> warp_live, at_warp;
  std::vector<float> exchange;  // one slot per thread for warp shuffles
  std::exception_ptr error;     // the first exception a thread threw, rethrown by the launch
};

thread_local BlockRun* g_run = nullptr;
thread_local cudaError_t g_last_error = cudaSuccess;
int g_multiprocessors = 2;
int g_resident_blocks = 2;

BlockRun& run() {
  if (!g_run) throw std::logic_error("CUDA emulation: a device function was called outside a kernel launch");
  return *g_run;
}

// Frees the threads waiting at a barrier once every live thread of its scope has arrived.
void release_block(BlockRun& r) {
  if (r.at_block == 0 || r.at_block != r.live) return;
  for (auto& f : r.fibers)
    if (f.state == Fiber::AtBlockBarrier) f.state = Fiber::Ready;
  r.at_block = 0;
}

void release_warp(BlockRun& r, unsigned w) {
  if (r.at_warp[w] == 0 || r.at_warp[w] != r.warp_live[w]) return;
  const unsigned end = std::min(r.threads, (w + 1) * kWarp);
  for (unsigned t = w * kWarp; t < end; ++t)
    if (r.fibers[t].state == Fiber::AtWarpBarrier) r.fibers[t].state = Fiber::Ready;
  r.at_warp[w] = 0;
}

void wait_at(Fiber::State barrier) {
  BlockRun& r = run();
  Fiber& f = r.fibers[r.current];
  const unsigned w = r.current / kWarp;
  f.state = barrier;
  if (barrier == Fiber::AtBlockBarrier) {
    ++r.at_block;
    release_block(r);
  } else {
    ++r.at_warp[w];
    release_warp(r, w);
  }
  switch_context(f.ctx, r.scheduler);
}

// A thread's whole life. It ends by switching to the scheduler for good: its stack is reused by
// the next block's thread of the same index.
void fiber_main() {
  BlockRun& r = run();
  try {
    (*r.body)();
  } catch (...) {  // an exception cannot unwind past a fiber's first frame: the launch rethrows it
    if (!r.error) r.error = std::current_exception();
  }
  const unsigned t = r.current;
  r.fibers[t].state = Fiber::Done;
  --r.live;
  --r.warp_live[t / kWarp];
  // A thread that returns no longer holds the others back at a barrier.
  release_block(r);
  release_warp(r, t / kWarp);
  switch_context(r.fibers[t].ctx, r.scheduler);
  std::abort();  // never resumed
}

Index unflatten(unsigned t, const dim3& d) { return {t % d.x, (t / d.x) % d.y, t / (d.x * d.y)}; }

}  // namespace

Index thread_idx() {
  BlockRun& r = run();
  return unflatten(r.current, r.block);
}
Index block_idx() { return run().block_index; }
Index block_dim() {
  const dim3& d = run().block;
  return {d.x, d.y, d.z};
}
Index grid_dim() {
  const dim3& d = run().grid;
  return {d.x, d.y, d.z};
}

void sync_threads() { wait_at(Fiber::AtBlockBarrier); }

float shfl_xor(float v, int lane_mask) {
  BlockRun& r = run();
  const unsigned t = r.current, w = t / kWarp;
  r.exchange[t] = v;
  wait_at(Fiber::AtWarpBarrier);  // every lane has written
  const unsigned src = w * kWarp + ((t % kWarp) ^ static_cast<unsigned>(lane_mask));
  const float out = src < r.threads ? r.exchange[src] : v;
  wait_at(Fiber::AtWarpBarrier);  // every lane has read before the next exchange overwrites
  return out;
}

void set_multiprocessors(int n) { g_multiprocessors = n; }
void set_resident_blocks(int n) { g_resident_blocks = n; }

void run_grid(dim3 grid, dim3 block, const std::function<void()>& body) {
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.y > 65535 || grid.z > 65535) {
    g_last_error = cudaErrorInvalidConfiguration;
    return;
  }
  if (g_run) throw std::logic_error("CUDA emulation: a kernel launched from inside a kernel");
  BlockRun r;
  r.grid = grid;
  r.block = block;
  r.threads = static_cast<unsigned>(threads);
  r.body = &body;
  r.fibers.resize(r.threads);
  for (auto& f : r.fibers) f.stack = std::make_unique<char[]>(kStackBytes);
  const unsigned warps = (r.threads + kWarp - 1) / kWarp;
  r.exchange.assign(r.threads, 0.f);
  struct Current {
    explicit Current(BlockRun* r) { g_run = r; }
    ~Current() { g_run = nullptr; }
  } current(&r);
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        r.block_index = {bx, by, bz};
        r.live = r.threads;
        r.at_block = 0;
        r.warp_live.assign(warps, 0);
        r.at_warp.assign(warps, 0);
        for (unsigned t = 0; t < r.threads; ++t) {
          ++r.warp_live[t / kWarp];
          Fiber& f = r.fibers[t];
          f.state = Fiber::Ready;
          start_context(f.ctx, f.stack.get(), kStackBytes, fiber_main);
        }
        while (r.live > 0) {
          bool ran = false;
          for (unsigned t = 0; t < r.threads; ++t) {
            if (r.fibers[t].state != Fiber::Ready) continue;
            r.current = t;
            ran = true;
            switch_context(r.scheduler, r.fibers[t].ctx);
          }
          if (r.error) std::rethrow_exception(r.error);
          if (!ran)
            throw std::runtime_error("CUDA emulation: block (" + std::to_string(bx) + ", " + std::to_string(by) + ", " +
                                     std::to_string(bz) + ") waits at a barrier that some of its threads never reach");
        }
      }
}

}  // namespace lntune::kernels::emulation

// The runtime calls the kernels' launchers make.
extern "C" {

cudaError_t cudaGetLastError() {
  const cudaError_t e = lntune::kernels::emulation::g_last_error;
  lntune::kernels::emulation::g_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  std::memset(p, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int) {
  *value = attr == cudaDevAttrMultiProcessorCount ? lntune::kernels::emulation::g_multiprocessors : 0;
  return cudaSuccess;
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, const void*, int threads, size_t) {
  if (threads <= 0 || threads > 1024) return cudaErrorInvalidValue;
  *blocks = lntune::kernels::emulation::g_resident_blocks;
  return cudaSuccess;
}

}  // extern "C"
