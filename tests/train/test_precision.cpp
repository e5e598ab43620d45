// store_frozen_projections_bf16: exactly the frozen projection tensors turn bf16 (counted by hand
// for the fixture models), trainable tensors, norms and embeddings stay fp32; under bf16 autocast
// (here the CPU's, the trainer uses CUDA's) the model computes what the fp32-stored model
// computes — autocast rounds the fp32 weights to the same bf16 values at every use — and trains
// only what it trained before.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "io/checkpoint.h"
#include "peft/method.h"
#include "test_paths.h"
#include "train/precision.h"

using namespace lntune;

namespace {

// CPU bf16 autocast while alive (the API gained a device argument in PyTorch 2.4).
struct CpuAutocast {
  CpuAutocast() { set(true); }
  ~CpuAutocast() {
    set(false);
    at::autocast::clear_cache();
  }
  static void set(bool on) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCPU, on);
    at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
#else
    at::autocast::set_cpu_enabled(on);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
#endif
  }
};

std::shared_ptr<TaskModelImpl> precision_model_with(const std::string& fixture, const std::string& method) {
  torch::manual_seed(0);  // the same new head and method tensors (LoRA's A, adapters' down) every time
  auto lm = load_model(test::fixtures() + "/" + fixture, Head::SequenceClassification);
  peft::apply_methods(*lm.model, nlohmann::json::parse(method), "test.json");
  return lm.model;
}

Batch batch(int64_t vocab) {
  torch::manual_seed(3);
  Batch b;
  b.input_ids = torch::randint(1, vocab, {2, 9}, torch::kLong);
  b.attention_mask = torch::ones({2, 9}, torch::kLong);
  b.attention_mask[1].slice(0, 6).fill_(0);
  return b;
}

}  // namespace

TEST(Precision, FrozenProjectionsOnlyTurnBf16) {
  // BERT fixture (H=32, I=64, L=2): per layer q, k, v, out 4 x (32x32 + 32), intermediate
  // 32x64 + 64, output 64x32 + 32 = 8,416 elements; LoRA freezes them all.
  auto m = precision_model_with("bert_seq_cls", R"({"name": "lora"})");
  EXPECT_EQ(store_frozen_projections_bf16(*m), 2 * 8416);
  int64_t lora = 0;
  for (const auto& p : m->named_parameters()) {
    const bool frozen_projection = !p.value().requires_grad() && p.value().dim() >= 1 &&
                                   p.key().find("LayerNorm") == std::string::npos && p.key().find("embeddings") == std::string::npos &&
                                   p.key().find("pooler") == std::string::npos;  // a torch Linear, not a Projection
    EXPECT_EQ(p.value().scalar_type(), frozen_projection ? at::kBFloat16 : at::kFloat) << p.key();
    if (p.key().find("lora_") != std::string::npos) {
      EXPECT_TRUE(p.value().requires_grad()) << p.key();
      lora += p.value().numel();
    }
  }
  EXPECT_GT(lora, 0);
  // BitFit trains the biases: only the weights (per layer 4 x 1,024 + 2 x 2,048) turn bf16.
  EXPECT_EQ(store_frozen_projections_bf16(*precision_model_with("bert_seq_cls", R"({"name": "bitfit"})")), 2 * 8192);
  // Full fine-tuning freezes nothing; a second call finds nothing left in fp32.
  EXPECT_EQ(store_frozen_projections_bf16(*precision_model_with("bert_seq_cls", R"({"name": "full"})")), 0);
  auto again = precision_model_with("bert_seq_cls", R"({"name": "ln"})");
  EXPECT_EQ(store_frozen_projections_bf16(*again), 2 * 8416);
  EXPECT_EQ(store_frozen_projections_bf16(*again), 0);
  // GPT-2 (H=32, L=2; Conv1D layout): c_attn 32x96 + 96, c_proj 32x32 + 32, mlp c_fc 32x128 +
  // 128, c_proj 128x32 + 32 = 12,576 elements a layer.
  EXPECT_EQ(store_frozen_projections_bf16(*precision_model_with("gpt2_lm", R"({"name": "ln"})")), 2 * 12576);
}

TEST(Precision, SameOutputsAndGradientsUnderBf16Autocast) {
  for (const std::string& fixture : {"bert_seq_cls", "gpt2_lm"}) {
    for (const std::string& method : {R"({"name": "lora"})", R"({"name": "ln"})", R"({"name": "adapter"})"}) {
      SCOPED_TRACE(fixture + " " + method);
      auto ref = precision_model_with(fixture, method);
      auto m = precision_model_with(fixture, method);
      ref->eval();
      m->eval();
      ASSERT_GT(store_frozen_projections_bf16(*m), 0);
      auto b = batch(ref->config.vocab_size);
      torch::Tensor y_ref, y;
      {
        CpuAutocast ac;
        y_ref = ref->forward(b).logits.to(torch::kFloat);
        y = m->forward(b).logits.to(torch::kFloat);
      }
      // The same bf16 operands in the same ops: equal up to the order of float additions.
      EXPECT_TRUE(torch::allclose(y, y_ref, 1e-5, 1e-5)) << (y - y_ref).abs().max().item<float>();
      y.pow(2).sum().backward();
      y_ref.pow(2).sum().backward();
      auto ref_params = ref->named_parameters();
      for (const auto& p : m->named_parameters()) {
        const auto& q = ref_params[p.key()];
        ASSERT_EQ(p.value().grad().defined(), q.grad().defined()) << p.key();
        if (!q.grad().defined()) continue;
        EXPECT_EQ(p.value().scalar_type(), at::kFloat) << p.key();  // trainable tensors keep fp32
        EXPECT_TRUE(torch::allclose(p.value().grad(), q.grad(), 1e-4, 1e-5))
            << p.key() << " " << (p.value().grad() - q.grad()).abs().max().item<float>() << " of " << q.grad().abs().max().item<float>();
      }
    }
  }
}
