#include "models/bert.h"

#include <cmath>

#include "models/activations.h"
#include "models/attention.h"
#include "models/linear.h"
#include "util/error.h"

namespace lntune {

namespace {
NormOptions norm_for(const ModelConfig& c, const NormOptions& base) {
  return NormOptions(base).dim(c.hidden_size).eps(c.layer_norm_eps);
}
}  // namespace

BertEmbeddingsImpl::BertEmbeddingsImpl(const ModelConfig& c, const NormOptions& norm) {
  auto we = torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size);
  if (c.pad_token_id >= 0 && c.pad_token_id < c.vocab_size) we.padding_idx(c.pad_token_id);
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(we));
  position_embeddings = register_module("position_embeddings", torch::nn::Embedding(c.max_positions, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", make_norm(norm_for(c, norm)));
  dropout = register_module("dropout", Dropout(DropoutOptions(c.hidden_dropout).impl(c.dropout_impl)));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& ids, const torch::Tensor& types, const torch::Tensor& prompt,
                                          int64_t position_offset) {
  auto words = word_embeddings(ids);
  auto tt = types.defined() ? types : torch::zeros_like(ids);
  if (prompt.defined()) {
    words = torch::cat({prompt.to(words.dtype()), words}, 1);
    tt = torch::cat({torch::zeros({ids.size(0), prompt.size(1)}, tt.options()), tt}, 1);
  }
  int64_t T = words.size(1);
  TORCH_CHECK(position_offset + T <= position_embeddings->options.num_embeddings(), "sequence length ", T,
              position_offset ? " after " + std::to_string(position_offset) + " prefix positions" : std::string(),
              " exceeds max_position_embeddings ", position_embeddings->options.num_embeddings());
  auto pos = torch::arange(position_offset, position_offset + T, ids.options().dtype(torch::kLong)).unsqueeze(0);
  auto e = words + token_type_embeddings(tt) + position_embeddings(pos);
  return dropout(LayerNorm(e));
}

BertSelfAttentionImpl::BertSelfAttentionImpl(const ModelConfig& c)
    : query(register_module("query", Projection(c.hidden_size, c.hidden_size))),
      key(register_module("key", Projection(c.hidden_size, c.hidden_size))),
      value(register_module("value", Projection(c.hidden_size, c.hidden_size))),
      qkv({query, key, value}),
      heads(c.num_heads),
      head_dim(c.hidden_size / c.num_heads),
      sdpa(c.attention == "sdpa") {
  dropout = register_module("dropout", Dropout(DropoutOptions(c.attention_dropout).impl(c.dropout_impl)));
}

torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor& h, AttentionMask& mask) {
  int64_t B = h.size(0), T = h.size(1);
  auto projected = qkv.forward(h, {heads, head_dim});  // each [B, T, heads, head_dim]
  auto q = projected[0].transpose(1, 2), k = projected[1].transpose(1, 2), v = projected[2].transpose(1, 2);
  add_prefix(prefix, k, v);
  if (!mask.made) {
    mask.layer = widen_mask_for_prefix(mask.padding, k.size(2) - T);
    mask.made = true;
  }
  check_layer_mask(mask, k);
  auto ctx = attend(q, k, v, mask.layer, 1.0 / std::sqrt(static_cast<double>(head_dim)), dropout, sdpa);
  return ctx.transpose(1, 2).reshape({B, T, heads * head_dim});
}

BertResidualOutputImpl::BertResidualOutputImpl(int64_t in, const ModelConfig& c, const NormOptions& norm) {
  dense = register_module("dense", Projection(in, c.hidden_size));
  LayerNorm = register_module("LayerNorm", make_norm(norm_for(c, norm)));
  dropout = register_module("dropout", Dropout(DropoutOptions(c.hidden_dropout).impl(c.dropout_impl)));
}

torch::Tensor BertResidualOutputImpl::forward(const torch::Tensor& h, const torch::Tensor& residual) {
  auto out = dropout(dense(h));
  if (adapter) out = adapter->forward(out, residual);
  return LayerNorm(out + residual);
}

BertAttentionImpl::BertAttentionImpl(const ModelConfig& c, const NormOptions& norm) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertResidualOutput(c.hidden_size, c, norm));
}

torch::Tensor BertAttentionImpl::forward(const torch::Tensor& h, AttentionMask& mask) {
  return output(self(h, mask), h);
}

BertIntermediateImpl::BertIntermediateImpl(const ModelConfig& c) : act(c.activation) {
  dense = register_module("dense", Projection(c.hidden_size, c.intermediate_size));
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor& h) { return activation(act, dense(h)); }

BertLayerImpl::BertLayerImpl(const ModelConfig& c, const NormOptions& norm) {
  attention = register_module("attention", BertAttention(c, norm));
  intermediate = register_module("intermediate", BertIntermediate(c));
  output = register_module("output", BertResidualOutput(c.intermediate_size, c, norm));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& h, AttentionMask& mask) {
  auto a = attention(h, mask);
  return output(intermediate(a), a);
}

BertModelImpl::BertModelImpl(const ModelConfig& c, const NormOptions& norm, bool add_pooler) {
  embeddings = register_module("embeddings", BertEmbeddings(c, norm));
  layers = torch::nn::ModuleList();
  for (int64_t i = 0; i < c.num_layers; ++i) layers->push_back(BertLayer(c, norm));
  auto encoder = std::make_shared<torch::nn::Module>("BertEncoder");
  encoder->register_module("layer", layers);
  register_module("encoder", encoder);
  if (add_pooler) {
    pooler = torch::nn::Linear(c.hidden_size, c.hidden_size);
    auto p = std::make_shared<torch::nn::Module>("BertPooler");
    p->register_module("dense", pooler);
    register_module("pooler", p);
  }
}

torch::Tensor BertModelImpl::forward(const Batch& b, std::vector<torch::Tensor>* hidden) {
  int64_t P = prompt_length();
  auto h = embeddings(b.input_ids, b.token_type_ids, P ? prompt->embeds(b.input_ids.size(0)) : torch::Tensor(),
                      position_offset);
  AttentionMask mask;
  if (b.attention_mask.defined()) {
    mask.padding = extended_attention_mask(widen_mask_for_prompt(b.attention_mask, P), h.scalar_type());
  }
  if (hidden) hidden->push_back(h);
  for (const auto& layer : *layers) {
    h = layer->as<BertLayer>()->forward(h, mask);
    if (hidden) hidden->push_back(h);
  }
  return h;
}

torch::Tensor BertModelImpl::pool(const torch::Tensor& last_hidden) {
  TORCH_CHECK(!pooler.is_empty(), "this BERT has no pooler");
  return torch::tanh(pooler(last_hidden.select(1, 0)));
}

BertMlmHeadImpl::BertMlmHeadImpl(const ModelConfig& c, const NormOptions& norm) : act(c.activation) {
  auto transform = std::make_shared<torch::nn::Module>("BertPredictionHeadTransform");
  dense = transform->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  LayerNorm = transform->register_module("LayerNorm", make_norm(norm_for(c, norm)));
  register_module("transform", transform);
  bias = register_parameter("bias", torch::zeros({c.vocab_size}));
}

torch::Tensor BertMlmHeadImpl::forward(const torch::Tensor& h, const torch::Tensor& decoder_weight) {
  return torch::linear(LayerNorm(activation(act, linear(dense, h))), decoder_weight, bias);
}

BertTaskModelImpl::BertTaskModelImpl(const ModelConfig& c, Head h, const NormOptions& norm) : TaskModelImpl(c, h) {
  if (h == Head::LanguageModel) throw Error("head 'lm' is GPT-2's; BERT supports none, seq_cls, token_cls");
  // HF: the pooler exists for the base model and sequence classification, not for token
  // classification or BertForMaskedLM.
  bert = register_module("bert", BertModel(c, norm, h == Head::None || h == Head::SequenceClassification));
  if (h == Head::SequenceClassification || h == Head::TokenClassification) {
    double p = c.classifier_dropout >= 0 ? c.classifier_dropout : c.hidden_dropout;
    dropout = register_module("dropout", Dropout(DropoutOptions(p).impl(c.dropout_impl)));
    classifier = register_module("classifier", torch::nn::Linear(c.hidden_size, c.num_labels));
  } else if (h == Head::MaskedLanguageModel) {
    auto cls = std::make_shared<torch::nn::Module>("BertOnlyMLMHead");
    mlm = cls->register_module("predictions", BertMlmHead(c, norm));
    register_module("cls", cls);
  }
}

ModelOutput BertTaskModelImpl::forward(const Batch& b, bool output_hidden_states) {
  ModelOutput out;
  out.last_hidden_state = bert->forward(b, output_hidden_states ? &out.hidden_states : nullptr);
  // With a soft prompt, position 0 is the first virtual token (as HF PEFT pools it); token
  // outputs drop the virtual positions.
  int64_t P = bert->prompt_length();
  if (head == Head::SequenceClassification) out.logits = classifier(dropout(bert->pool(out.last_hidden_state)));
  else if (head == Head::TokenClassification)
    out.logits = linear(classifier, dropout(out.last_hidden_state.narrow(1, P, out.last_hidden_state.size(1) - P)));
  else if (head == Head::MaskedLanguageModel)
    out.logits = mlm(lm_hidden(out.last_hidden_state.narrow(1, P, out.last_hidden_state.size(1) - P), b),
                     bert->embeddings->word_embeddings->weight);
  return out;
}

bool BertTaskModelImpl::ignorable_key(const std::string& key) const {
  // position_ids was a persistent buffer in older transformers; no weights in it.
  // The MLM decoder is tied: its weight is the word embeddings, its bias cls.predictions.bias.
  return key == "bert.embeddings.position_ids" || key == "cls.predictions.decoder.weight" ||
         key == "cls.predictions.decoder.bias";
}

bool BertTaskModelImpl::optional_backbone_key(const std::string& key) const {
  return key.rfind("bert.pooler.", 0) == 0;
}

}  // namespace lntune
