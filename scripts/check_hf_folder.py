#!/usr/bin/env python3
"""Checks that HF transformers loads a model folder written by lntune and gives the same outputs.

Run on the GPU machine (it has transformers); the folder and lntune's outputs come from here:

  build/lntune forward --model runs/pretrain/bert-mini/model --text "The capital of France is [MASK]." \
      --out runs/pretrain/bert-mini/forward.safetensors
  python3 scripts/check_hf_folder.py runs/pretrain/bert-mini/model runs/pretrain/bert-mini/forward.safetensors

Loads the folder with AutoModelForMaskedLM / AutoModelForCausalLM (from its config.json's
architectures) and AutoTokenizer, checks the tokenizer gives the same input ids, runs the same
ids in fp32 on CPU, and compares logits and the last hidden state (max abs difference <= 1e-4).
Prints one JSON line; exits 1 on a mismatch.
"""
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    folder, ours_path = sys.argv[1:]
    ours = load_file(ours_path)
    cfg = AutoConfig.from_pretrained(folder)
    arch = (cfg.architectures or [""])[0]
    cls = AutoModelForMaskedLM if arch.endswith("ForMaskedLM") else AutoModelForCausalLM
    model = cls.from_pretrained(folder).float().eval()
    tok = AutoTokenizer.from_pretrained(folder)
    ids = ours["input_ids"]
    with safe_open(ours_path, "pt") as f:
        meta = f.metadata()
    hf_ids = tok(meta["text"], meta.get("text_pair"), return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model(input_ids=ids, output_hidden_states=True)
    report = {"folder": folder, "architecture": arch, "tokens": ids.shape[1]}
    report["logits_max_abs_diff"] = (out.logits - ours["logits"]).abs().max().item()
    report["hidden_max_abs_diff"] = (out.hidden_states[-1] - ours["last_hidden_state"]).abs().max().item()
    ok = report["logits_max_abs_diff"] <= 1e-4 and report["hidden_max_abs_diff"] <= 1e-4
    report["tokenizer_class"] = type(tok).__name__
    report["tokenizer_ids_equal"] = torch.equal(hf_ids, ids)
    ok = ok and report["tokenizer_ids_equal"]
    report["ok"] = ok
    print(json.dumps(report))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
