#!/usr/bin/env python3
"""HF-transformers parity fixtures (run where `transformers` is installed: the GPU machine).

Builds seeded HF BertForSequenceClassification and GPT2LMHeadModel (small configs, random
init, the real vocabulary sizes 30522 / 50257), saves each as an HF folder (safetensors), an
HF folder with pytorch_model.bin, and a TorchScript archive (scripts/export_torchscript.py),
plus the inputs and HF's own outputs (every hidden state and the logits, fp32, eager attention)
in <name>_ref.safetensors. tests/models/test_hf_parity.cpp loads each format and matches HF to
1e-5. Everything is computed on CPU in fp32 so the numbers do not depend on the GPU.

    python3 scripts/make_hf_fixtures.py tests/fixtures/hf
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from export_torchscript import export  # noqa: E402


def save_ref(path, tensors):
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in tensors.items()}, path)


def build(out, name, model, inputs):
    model.eval()
    folder = os.path.join(out, name)
    model.save_pretrained(folder)
    # pytorch_model.bin is a pickled state dict; written directly, since newer transformers save
    # safetensors only.
    bin_dir = os.path.join(out, name + "_bin")
    model.config.save_pretrained(bin_dir)
    torch.save(model.state_dict(), os.path.join(bin_dir, "pytorch_model.bin"))
    try:  # the archive's test skips without it; the other formats still get checked
        export(folder, os.path.join(out, name + ".pt"))
    except Exception as e:  # noqa: BLE001
        print(f"{name}: TorchScript export failed: {type(e).__name__}: {e}", file=sys.stderr)
    with torch.no_grad():
        o = model(**inputs, output_hidden_states=True)
    ref = dict(inputs)
    if "token_type_ids" not in ref:
        ref["token_type_ids"] = torch.zeros_like(ref["input_ids"])
    ref["logits"] = o.logits
    for i, h in enumerate(o.hidden_states):
        ref["hidden_states.%d" % i] = h
    save_ref(os.path.join(out, name + "_ref.safetensors"), ref)


def main(out):
    import transformers

    print("transformers", transformers.__version__, "torch", torch.__version__)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    ids = torch.randint(1000, 20000, (2, 12))
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    ids[1, 8:] = 0
    tt = torch.zeros_like(ids)
    tt[:, 6:] = 1

    bert_cfg = transformers.BertConfig(vocab_size=30522, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                                       intermediate_size=16, max_position_embeddings=64, num_labels=3,
                                       attn_implementation="eager")
    bert_cfg.architectures = ["BertForSequenceClassification"]
    torch.manual_seed(1)
    bert = transformers.BertForSequenceClassification(bert_cfg)
    with torch.no_grad():  # make LayerNorm gains/biases non-trivial so a mapping slip shows
        for n, p in bert.named_parameters():
            if "LayerNorm" in n:
                p.add_(torch.randn_like(p) * 0.3)
    build(out, "bert_seq_cls", bert, {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt})

    gpt_cfg = transformers.GPT2Config(vocab_size=50257, n_embd=8, n_layer=2, n_head=2, n_positions=64,
                                      attn_implementation="eager")
    gpt_cfg.architectures = ["GPT2LMHeadModel"]
    torch.manual_seed(2)
    gpt = transformers.GPT2LMHeadModel(gpt_cfg)
    with torch.no_grad():
        for n, p in gpt.named_parameters():
            if ".ln_" in n:
                p.add_(torch.randn_like(p) * 0.3)
    build(out, "gpt2_lm", gpt, {"input_ids": ids.clamp_max(50256), "attention_mask": mask})
    for f in sorted(os.listdir(out)):
        print(f)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "hf"))
