#include "models/gpt2.h"

#include <cmath>
#include <limits>

#include "models/activations.h"
#include "models/attention.h"
#include "models/linear.h"
#include "util/error.h"
#include "util/strings.h"

namespace lntune {

void KVCache::select_rows(const torch::Tensor& rows) {
  for (auto& t : k) t = t.index_select(0, rows);
  for (auto& t : v) t = t.index_select(0, rows);
  lengths = lengths.index_select(0, rows.to(lengths.device()));
}

GPT2AttentionImpl::GPT2AttentionImpl(const ModelConfig& c, int64_t layer_idx)
    : heads(c.num_heads), head_dim(c.hidden_size / c.num_heads), sdpa(c.attention == "sdpa"), layer(layer_idx) {
  c_attn = register_module("c_attn", Projection(c.hidden_size, 3 * c.hidden_size, true, true));
  c_proj = register_module("c_proj", Projection(c.hidden_size, c.hidden_size, true, true));
  attn_dropout = register_module("attn_dropout", Dropout(DropoutOptions(c.attention_dropout).impl(c.dropout_impl)));
  resid_dropout = register_module("resid_dropout", Dropout(DropoutOptions(c.hidden_dropout).impl(c.dropout_impl)));
  scale = c.scale_attn_weights ? 1.0 / std::sqrt(static_cast<double>(head_dim)) : 1.0;
  if (c.scale_attn_by_inverse_layer_idx) scale /= static_cast<double>(layer_idx + 1);
}

torch::Tensor GPT2AttentionImpl::forward(const torch::Tensor& h, AttentionMask& mask, KVCache* cache) {
  int64_t B = h.size(0), T = h.size(1), H = heads * head_dim;
  // [B, T, 3, heads, head_dim] split whole: the backward stacks the three head-split gradients as
  // they come (one operator), where splitting [B, T, 3H] first and each third into heads copies
  // each gradient before joining them (models/projection_group.h).
  auto qkv = c_attn(h).view({B, T, 3, heads, head_dim}).unbind(2);
  auto q = qkv[0].transpose(1, 2), k = qkv[1].transpose(1, 2), v = qkv[2].transpose(1, 2);
  if (cache) {
    auto l = static_cast<size_t>(layer);
    if (cache->k.size() <= l) cache->k.resize(l + 1), cache->v.resize(l + 1);
    if (!cache->decoding) {  // prefill: the prompts' keys/values, the rest of the capacity empty
      TORCH_CHECK(T <= cache->capacity, "KV cache of ", cache->capacity, " positions for ", T);
      cache->k[l] = torch::zeros({B, heads, cache->capacity, head_dim}, k.options());
      cache->v[l] = torch::zeros({B, heads, cache->capacity, head_dim}, v.options());
      cache->k[l].narrow(2, 0, T).copy_(k);
      cache->v[l].narrow(2, 0, T).copy_(v);
    } else {  // decode (T = 1): each row's token at its own slot, then every slot as keys
      auto at = cache->lengths.clamp_max(cache->capacity - 1).to(k.device()).view({B, 1, 1, 1}).expand({B, heads, 1, head_dim});
      cache->k[l].scatter_(2, at, k.to(cache->k[l].dtype()));  // in place: generation runs without gradients
      cache->v[l].scatter_(2, at, v.to(cache->v[l].dtype()));
      k = cache->k[l];
      v = cache->v[l];
    }
  }
  add_prefix(prefix, k, v);
  if (!mask.made) {
    int64_t P = k.size(2) - T;  // prefix positions are visible to every query
    // The causal mask as an additive one ([T, T + P]), with the padding mask when there is one.
    auto causal = torch::ones({T, T + P}, h.options().dtype(torch::kBool)).tril(P);
    const auto dt = mask.padding.defined() ? mask.padding.scalar_type() : q.scalar_type();
    mask.layer = torch::where(causal, torch::zeros({}, q.options().dtype(dt)),
                              torch::full({}, lowest_value(q.scalar_type()), q.options().dtype(dt)));
    if (mask.padding.defined()) mask.layer = mask.layer + widen_mask_for_prefix(mask.padding, P);
    mask.made = true;
  }
  check_layer_mask(mask, k);
  auto ctx = attend(q, k, v, mask.layer, scale, attn_dropout, sdpa).transpose(1, 2).reshape({B, T, H});
  return resid_dropout(c_proj(ctx));
}

GPT2MLPImpl::GPT2MLPImpl(const ModelConfig& c) : act(c.activation) {
  c_fc = register_module("c_fc", Projection(c.hidden_size, c.intermediate_size, true, true));
  c_proj = register_module("c_proj", Projection(c.intermediate_size, c.hidden_size, true, true));
  dropout = register_module("dropout", Dropout(DropoutOptions(c.hidden_dropout).impl(c.dropout_impl)));
}

torch::Tensor GPT2MLPImpl::forward(const torch::Tensor& h) { return dropout(c_proj(activation(act, c_fc(h)))); }

GPT2BlockImpl::GPT2BlockImpl(const ModelConfig& c, const NormOptions& norm, int64_t layer_idx) {
  auto n = NormOptions(norm).dim(c.hidden_size).eps(c.layer_norm_eps);
  ln_1 = register_module("ln_1", make_norm(n));
  attn = register_module("attn", GPT2Attention(c, layer_idx));
  ln_2 = register_module("ln_2", make_norm(n));
  mlp = register_module("mlp", GPT2MLP(c));
}

torch::Tensor GPT2BlockImpl::forward(const torch::Tensor& x, AttentionMask& mask, KVCache* cache) {
  auto in1 = ln_1(x);
  auto a = attn->forward(in1, mask, cache);
  if (adapter_attn) a = adapter_attn->forward(a, in1);
  auto h = x + a;
  auto in2 = ln_2(h);
  auto m = mlp(in2);
  if (adapter_ffn) m = adapter_ffn->forward(m, in2);
  return h + m;
}

GPT2ModelImpl::GPT2ModelImpl(const ModelConfig& c, const NormOptions& norm) {
  wte = register_module("wte", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  wpe = register_module("wpe", torch::nn::Embedding(c.max_positions, c.hidden_size));
  drop = register_module("drop", Dropout(DropoutOptions(c.embedding_dropout).impl(c.dropout_impl)));
  h = register_module("h", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) h->push_back(GPT2Block(c, norm, i));
  ln_f = register_module("ln_f", make_norm(NormOptions(norm).dim(c.hidden_size).eps(c.layer_norm_eps)));
}

torch::Tensor GPT2ModelImpl::forward(const Batch& b, std::vector<torch::Tensor>* hidden, KVCache* cache) {
  int64_t P = prompt_length();
  auto words = wte(b.input_ids);
  if (P) words = torch::cat({prompt->embeds(b.input_ids.size(0)).to(words.dtype()), words}, 1);
  int64_t T = words.size(1);
  TORCH_CHECK(position_offset + T <= wpe->options.num_embeddings(), "sequence length ", T,
              position_offset ? " after " + std::to_string(position_offset) + " prefix positions" : std::string(),
              " exceeds n_positions ", wpe->options.num_embeddings());
  auto pos = torch::arange(position_offset, position_offset + T, b.input_ids.options().dtype(torch::kLong)).unsqueeze(0);
  auto x = drop(words + wpe(pos));
  AttentionMask mask;
  if (b.attention_mask.defined()) {
    mask.padding = extended_attention_mask(widen_mask_for_prompt(b.attention_mask, P), x.scalar_type());
  }
  if (hidden) hidden->push_back(x);
  if (cache) {
    TORCH_CHECK(b.attention_mask.defined(), "a KV-cache prefill needs the attention mask (the prompts' lengths)");
    cache->decoding = false;
    cache->lengths = b.attention_mask.sum(1).to(torch::kLong) + P;
  }
  for (const auto& blk : *h) {
    x = blk->as<GPT2Block>()->forward(x, mask, cache);
    if (hidden) hidden->push_back(x);
  }
  x = ln_f(x);
  // HF reports the final hidden state after ln_f (replacing the last block's output).
  if (hidden) hidden->back() = x;
  return x;
}

torch::Tensor GPT2ModelImpl::decode(const torch::Tensor& tokens, KVCache& cache) {
  const int64_t B = tokens.size(0);
  TORCH_CHECK(!cache.k.empty() && cache.lengths.size(0) == B, "decode needs a KV cache of ", B, " rows (prefill first)");
  // The token of a row holding n positions is its position n (after a prefix's offset); a row
  // already full (finished, its output unread) stays at the last slot.
  auto at = cache.lengths.clamp_max(cache.capacity - 1);
  auto pos = (at + position_offset).clamp_max(wpe->options.num_embeddings() - 1).to(tokens.device());
  auto x = drop(wte(tokens.view({B, 1})) + wpe(pos).unsqueeze(1));
  // Keys: a prefix's (all visible), then the cache's slots, visible up to the new token's.
  int64_t P = 0;
  if (h->size() > 0)
    if (const auto& pre = h[0]->as<GPT2Block>()->attn->prefix) P = pre->length();
  auto slots = torch::arange(cache.capacity, at.options()).unsqueeze(0);
  auto visible = torch::cat({torch::ones({B, P}, at.options().dtype(torch::kBool)), slots <= at.unsqueeze(1)}, 1);
  AttentionMask mask;
  mask.layer = torch::where(visible, torch::zeros({}, x.options()), torch::full({}, lowest_value(x.scalar_type()), x.options()))
                   .view({B, 1, 1, P + cache.capacity});
  mask.made = true;
  cache.decoding = true;
  for (const auto& blk : *h) x = blk->as<GPT2Block>()->forward(x, mask, &cache);
  cache.decoding = false;
  cache.lengths = cache.lengths + 1;
  return ln_f(x);
}

GPT2TaskModelImpl::GPT2TaskModelImpl(const ModelConfig& c, Head h, const NormOptions& norm) : TaskModelImpl(c, h) {
  transformer = register_module("transformer", GPT2Model(c, norm));
  if (h == Head::SequenceClassification) {
    score = register_module("score", torch::nn::Linear(torch::nn::LinearOptions(c.hidden_size, c.num_labels).bias(false)));
  } else if (h == Head::TokenClassification) {
    double p = c.classifier_dropout >= 0 ? c.classifier_dropout : c.hidden_dropout;
    dropout = register_module("dropout", Dropout(DropoutOptions(p).impl(c.dropout_impl)));
    classifier = register_module("classifier", torch::nn::Linear(c.hidden_size, c.num_labels));
  }
}

ModelOutput GPT2TaskModelImpl::forward(const Batch& b, bool output_hidden_states) {
  ModelOutput out;
  auto x = transformer->forward(b, output_hidden_states ? &out.hidden_states : nullptr);
  out.last_hidden_state = x;
  // Heads read the real tokens only: drop a soft prompt's virtual positions.
  int64_t P = transformer->prompt_length();
  if (P) x = x.narrow(1, P, x.size(1) - P);
  if (head == Head::LanguageModel) {
    out.logits = torch::matmul(lm_hidden(x, b), transformer->wte->weight.t());  // tied LM head
  } else if (head == Head::SequenceClassification) {
    // Pool the last real token: from the attention mask when given, else the last non-pad id.
    int64_t T = x.size(1);
    auto pos = torch::arange(T, b.input_ids.options().dtype(torch::kLong)).unsqueeze(0);
    torch::Tensor last;
    if (b.attention_mask.defined()) last = (pos * (b.attention_mask != 0).to(torch::kLong)).argmax(-1);
    else if (config.pad_token_id >= 0) last = (pos * (b.input_ids != config.pad_token_id).to(torch::kLong)).argmax(-1);
    else last = torch::full({x.size(0)}, T - 1, pos.options());
    auto rows = torch::arange(x.size(0), last.options());
    out.logits = score(x.index({rows, last}));
  } else if (head == Head::TokenClassification) {
    out.logits = linear(classifier, dropout(x));
  }
  return out;
}

torch::Tensor GPT2TaskModelImpl::prefill(const Batch& b, KVCache& cache, int64_t capacity) {
  TORCH_CHECK(head == Head::LanguageModel, "prefill: generation needs the language-model head");
  cache = KVCache{};
  cache.capacity = capacity;
  auto x = transformer->forward(b, nullptr, &cache);
  const int64_t P = transformer->prompt_length();
  if (P) x = x.narrow(1, P, x.size(1) - P);
  return torch::matmul(lm_hidden(x, b), transformer->wte->weight.t());
}

torch::Tensor GPT2TaskModelImpl::decode(const torch::Tensor& tokens, KVCache& cache) {
  TORCH_CHECK(head == Head::LanguageModel, "decode: generation needs the language-model head");
  auto x = transformer->decode(tokens, cache);
  return torch::matmul(x.squeeze(1), transformer->wte->weight.t());
}

bool GPT2TaskModelImpl::ignorable_key(const std::string& key) const {
  // attn.bias / attn.masked_bias are the causal-mask buffers of older checkpoints; lm_head is tied.
  return ends_with(key, ".attn.bias") || ends_with(key, ".attn.masked_bias") || key == "lm_head.weight";
}

}  // namespace lntune
