#!/usr/bin/python3
"""Seeded BERT / GPT-2 fixtures for the loader and model tests (runs on CPU with Debian's torch).

No pretrained weights exist on our machines, so these are small *seeded* models. The reference
outputs come from an independent eager implementation written here against torch.nn.functional,
with the module tree and parameter names of HF transformers. HF's own numbers are produced by
scripts/make_hf_fixtures.py on the GPU machine (it needs `transformers`).

Writes, under tests/fixtures/:
  <name>/            config.json + model.safetensors + tokenizer file (HF model folder)
  <name>_bin/        config.json + pytorch_model.bin (torch.save zip, HF-style OrderedDict)
  <name>.pt          TorchScript archive (traced) with config.json as an extra file
  <name>_ref.safetensors   inputs and reference hidden states / logits

Usage: /usr/bin/python3 scripts/make_seeded_fixtures.py [out_dir]
"""
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 128


def write_safetensors(path, tensors):
    """Minimal safetensors writer (format: 8-byte LE header length, JSON header, raw data)."""
    names = {torch.float32: "F32", torch.int64: "I64", torch.float16: "F16", torch.bfloat16: "BF16"}
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[k] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# ---------------------------------------------------------------- BERT (HF module names)
class BertEmbeddings(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        s.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        s.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        s.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(s, ids, tt):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        return s.LayerNorm(s.word_embeddings(ids) + s.token_type_embeddings(tt) + s.position_embeddings(pos))


class Dense(nn.Module):  # BertSelfOutput / BertOutput / BertIntermediate / BertPooler: a "dense" child
    def __init__(s, i, o, ln_eps=None):
        super().__init__()
        s.dense = nn.Linear(i, o)
        if ln_eps is not None:
            s.LayerNorm = nn.LayerNorm(o, eps=ln_eps)


class BertSelfAttention(nn.Module):
    def __init__(s, c):
        super().__init__()
        h = c["hidden_size"]
        s.nh = c["num_attention_heads"]
        s.query, s.key, s.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def forward(s, x, mask):
        B, T, H = x.shape
        d = H // s.nh
        q, k, v = [m(x).view(B, T, s.nh, d).transpose(1, 2) for m in (s.query, s.key, s.value)]
        w = q @ k.transpose(-1, -2) / math.sqrt(d) + mask
        return (w.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H)


class BertAttention(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.self = BertSelfAttention(c)
        s.output = Dense(c["hidden_size"], c["hidden_size"], c["layer_norm_eps"])


class BertLayer(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.attention = BertAttention(c)
        s.intermediate = Dense(c["hidden_size"], c["intermediate_size"])
        s.output = Dense(c["intermediate_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(s, x, mask):
        a = s.attention.output.LayerNorm(s.attention.output.dense(s.attention.self(x, mask)) + x)
        i = F.gelu(s.intermediate.dense(a))
        return s.output.LayerNorm(s.output.dense(i) + a)


class BertEncoder(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])


class BertModel(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.embeddings = BertEmbeddings(c)
        s.encoder = BertEncoder(c)
        s.pooler = Dense(c["hidden_size"], c["hidden_size"])


class BertForSequenceClassification(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.bert = BertModel(c)
        s.classifier = nn.Linear(c["hidden_size"], len(c["id2label"]))

    def forward(s, ids, mask, tt):
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        h = s.bert.embeddings(ids, tt)
        hs = [h]
        for layer in s.bert.encoder.layer:
            h = layer(h, ext)
            hs.append(h)
        pooled = torch.tanh(s.bert.pooler.dense(h[:, 0]))
        return (s.classifier(pooled),) + tuple(hs)


# ---------------------------------------------------------------- GPT-2 (HF module names)
class Conv1D(nn.Module):
    def __init__(s, i, o):
        super().__init__()
        s.weight = nn.Parameter(torch.randn(i, o) * 0.02)
        s.bias = nn.Parameter(torch.randn(o) * 0.02)

    def forward(s, x):
        return x @ s.weight + s.bias


class GPT2Attention(nn.Module):
    def __init__(s, c):
        super().__init__()
        h = c["n_embd"]
        s.nh = c["n_head"]
        s.c_attn, s.c_proj = Conv1D(h, 3 * h), Conv1D(h, h)

    def forward(s, x, mask):
        B, T, H = x.shape
        d = H // s.nh
        q, k, v = [t.view(B, T, s.nh, d).transpose(1, 2) for t in s.c_attn(x).split(H, -1)]
        w = q @ k.transpose(-1, -2) / math.sqrt(d)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        w = torch.where(causal, w, torch.tensor(torch.finfo(torch.float32).min)) + mask
        return s.c_proj((w.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H))


class GPT2MLP(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.c_fc, s.c_proj = Conv1D(c["n_embd"], 4 * c["n_embd"]), Conv1D(4 * c["n_embd"], c["n_embd"])


class GPT2Block(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.ln_1 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        s.attn = GPT2Attention(c)
        s.ln_2 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        s.mlp = GPT2MLP(c)

    def forward(s, x, mask):
        x = x + s.attn(s.ln_1(x), mask)
        return x + s.mlp.c_proj(gelu_new(s.mlp.c_fc(s.ln_2(x))))


class GPT2Model(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        s.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        s.h = nn.ModuleList([GPT2Block(c) for _ in range(c["n_layer"])])
        s.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])


class GPT2LMHeadModel(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.transformer = GPT2Model(c)

    def forward(s, ids, mask, tt):
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        t = s.transformer
        x = t.wte(ids) + t.wpe(torch.arange(ids.shape[1]).unsqueeze(0))
        hs = [x]
        for blk in t.h:
            x = blk(x, ext)
            hs.append(x)
        x = t.ln_f(x)
        hs[-1] = x
        return (x @ t.wte.weight.t(),) + tuple(hs)


def randomise(model, seed):
    """Every parameter random (LayerNorm gains too), so a wrong mapping cannot go unnoticed."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.3 if p.dim() == 1 else 0.08))
            if name.endswith("LayerNorm.weight") or ".ln_" in name:
                p.add_(1.0)


def tiny_vocab():
    toks = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'")
    toks += ["the", "an", "film", "is", "good", "bad", "not", "very", "##s", "##ing", "##ed", "movie", "plot"]
    toks += ["[unused%d]" % i for i in range(VOCAB - len(toks))]
    return toks


def export(out, name, model, config, ids, mask, tt, extra_bin=None, strip_prefix=None):
    model.eval()
    with torch.no_grad():
        outs = model(ids, mask, tt)
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    cfg = json.dumps(config, indent=2, sort_keys=True)
    sd = OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write(cfg)
    write_safetensors(os.path.join(folder, "model.safetensors"), sd)
    if config["model_type"] == "bert":
        with open(os.path.join(folder, "vocab.txt"), "w") as f:
            f.write("\n".join(tiny_vocab()) + "\n")
    # pytorch_model.bin: an HF-style OrderedDict (with _metadata), optionally as a base model.
    bin_dir = os.path.join(out, name + "_bin")
    os.makedirs(bin_dir, exist_ok=True)
    with open(os.path.join(bin_dir, "config.json"), "w") as f:
        f.write(cfg)
    bsd = model.state_dict()
    if extra_bin:
        bsd.update(extra_bin)
    torch.save(bsd, os.path.join(bin_dir, "pytorch_model.bin"))
    # TorchScript, config.json inside the archive.
    traced = torch.jit.trace(model, (ids, mask, tt), check_trace=False)
    torch.jit.save(traced, os.path.join(out, name + ".pt"), _extra_files={"config.json": cfg})
    # The raw pickle of the .bin, for the torch-free unpickler tests.
    import zipfile
    with zipfile.ZipFile(os.path.join(bin_dir, "pytorch_model.bin")) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
        with open(os.path.join(out, name + "_data.pkl"), "wb") as f:
            f.write(z.read(pkl))
    ref = OrderedDict(input_ids=ids, attention_mask=mask, token_type_ids=tt, logits=outs[0])
    for i, h in enumerate(outs[1:]):
        ref["hidden_states.%d" % i] = h
    write_safetensors(os.path.join(out, name + "_ref.safetensors"), ref)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    ids = torch.randint(5, VOCAB, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.int64)
    mask[1, 8:] = 0
    ids[1, 8:] = 0
    tt = torch.zeros(2, 12, dtype=torch.int64)
    tt[:, 6:] = 1

    bert_cfg = {"model_type": "bert", "architectures": ["BertForSequenceClassification"], "vocab_size": VOCAB,
                "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
                "max_position_embeddings": 64, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
                "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0,
                "id2label": {"0": "a", "1": "b", "2": "c"}, "label2id": {"a": 0, "b": 1, "c": 2},
                "initializer_range": 0.02}
    bert = BertForSequenceClassification(bert_cfg)
    randomise(bert, 1)
    export(out, "bert_seq_cls", bert, bert_cfg, ids, mask, tt,
           extra_bin={"bert.embeddings.position_ids": torch.arange(64).unsqueeze(0)})

    gpt_cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": VOCAB, "n_embd": 32,
               "n_layer": 2, "n_head": 4, "n_positions": 64, "n_inner": None, "layer_norm_epsilon": 1e-5,
               "activation_function": "gelu_new", "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1,
               "bos_token_id": VOCAB - 1, "eos_token_id": VOCAB - 1, "initializer_range": 0.02}
    gpt = GPT2LMHeadModel(gpt_cfg)
    randomise(gpt, 2)
    causal = torch.ones(64, 64, dtype=torch.bool).tril().view(1, 1, 64, 64)
    extra = {"transformer.h.%d.attn.bias" % i: causal for i in range(2)}  # as older HF checkpoints hold
    extra["lm_head.weight"] = gpt.transformer.wte.weight
    export(out, "gpt2_lm", gpt, gpt_cfg, ids, mask, torch.zeros_like(tt), extra_bin=extra)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures"))
