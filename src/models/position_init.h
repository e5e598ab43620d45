// Initialisations of the absolute position table beyond HF's N(0, 0.02).
#pragma once
#include <torch/torch.h>

#include <string>

namespace lntune {

// Fills the absolute position table (BERT position_embeddings, GPT-2 wpe) with the Transformer's
// sinusoids scaled to standard deviation `std`. It stays a learned table that HF loads as usual;
// the sinusoids only give it, from step 0, the structure in which every offset is one fixed
// rotation, which a short pretraining from N(0, std) otherwise spends many updates discovering.
// Returns the parameter's name; throws when the model has no such table.
std::string init_sinusoidal_positions(torch::nn::Module& model, double std = 0.02);

// The angular frequency of pair `pair` (columns 2 pair, 2 pair + 1) of that table for a hidden
// size `hidden`: 10000^(-2 pair / hidden) rad per position.
double sinusoid_frequency(int64_t pair, int64_t hidden);

}  // namespace lntune
