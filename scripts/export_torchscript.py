#!/usr/bin/env python3
"""Export an HF model folder (config.json + weights) as a TorchScript archive for lntune.

Needs `torch` and `transformers` (pip install transformers); runs on CPU. The archive keeps HF's
parameter names (bert.encoder.layer.0..., transformer.h.0...) and carries config.json as an
extra file, so `lntune info --model model.pt` needs nothing beside it.

    python3 scripts/export_torchscript.py HF_MODEL_DIR OUT.pt [--seq-len 16]
"""
import argparse
import json
import os

import torch


def load_hf(folder):
    import transformers

    config = transformers.AutoConfig.from_pretrained(folder)
    arch = (config.architectures or [None])[0]
    if arch is None:
        arch = "BertModel" if config.model_type == "bert" else "GPT2LMHeadModel"
    cls = getattr(transformers, arch)
    config.torchscript = True  # tuple outputs, tied weights cloned for tracing
    model = cls.from_pretrained(folder, config=config, attn_implementation="eager")
    return model.eval(), config


def export(folder, out, seq_len=16):
    model, config = load_hf(folder)
    model.config.use_cache = False  # no cache object among the outputs (tracing takes tensors only)
    ids = torch.randint(0, config.vocab_size, (2, seq_len))
    # By name: GPT-2's second positional argument is past_key_values, not the attention mask
    # (transformers 5 fails on a tensor there: "'Tensor' object has no attribute 'get_seq_length'").
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if config.model_type == "bert":
        inputs["token_type_ids"] = torch.zeros_like(ids)
    with torch.no_grad():
        traced = torch.jit.trace(model, example_kwarg_inputs=inputs, strict=False, check_trace=False)
    with open(os.path.join(folder, "config.json")) as f:
        cfg = f.read()
    json.loads(cfg)  # must be valid: lntune reads it from the archive
    torch.jit.save(traced, out, _extra_files={"config.json": cfg})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("out")
    p.add_argument("--seq-len", type=int, default=16)
    a = p.parse_args()
    print(export(a.folder, a.out, a.seq_len))


if __name__ == "__main__":
    main()
