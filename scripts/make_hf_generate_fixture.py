#!/usr/bin/env python3
"""HF transformers' greedy decoding on the committed HF GPT-2 fixture (tests/fixtures/hf/gpt2_lm,
made by scripts/make_hf_fixtures.py), for tests/train/test_generate.cpp's
`Generate.GreedyIsHfTransformersGenerate`. Run where `transformers` is installed (the GPU
machine: scripts/gpu_checks.sh generate); CPU, fp32, eager attention, so the numbers do not
depend on the GPU.

    python3 scripts/make_hf_generate_fixture.py tests/fixtures/hf > tests/fixtures/hf/gpt2_generate.json

Prompts of several lengths (seeded random ids), each decoded alone by `model.generate` with
do_sample=False, num_beams=1 and no eos (every row runs max_new_tokens), and the smallest gap
between the chosen token's logit and the runner-up over every step: lntune's logits equal HF's
to 1e-5 (HfParity.Gpt2LMHeadModel), so where that gap is larger the argmax cannot differ, and
the test asserts the same ids.
"""
import json
import os
import sys

import torch
from transformers import GPT2LMHeadModel

MAX_NEW = 16


def main():
    folder = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/hf", "gpt2_lm")
    model = GPT2LMHeadModel.from_pretrained(folder, attn_implementation="eager").eval()
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(11)
    rows = []
    for length in (1, 3, 6, 9, 17):
        prompt = torch.randint(0, vocab, (1, length), generator=g)
        with torch.no_grad():
            out = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=MAX_NEW,
                                 min_new_tokens=MAX_NEW, do_sample=False, num_beams=1, eos_token_id=None,
                                 pad_token_id=0, output_scores=True, return_dict_in_generate=True)
        gaps = [float(s[0].topk(2).values[0] - s[0].topk(2).values[1]) for s in out.scores]
        rows.append({"prompt": prompt[0].tolist(), "generated": out.sequences[0, length:].tolist(),
                     "min_logit_gap": min(gaps)})
    import transformers
    json.dump({"model": "tests/fixtures/hf/gpt2_lm", "max_new_tokens": MAX_NEW,
               "transformers": transformers.__version__, "torch": torch.__version__, "rows": rows}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
