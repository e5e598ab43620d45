#!/usr/bin/env python3
"""HF transformers' greedy decoding and beam search, for tests/train/test_generate.cpp's
`Generate.GreedyIsHfTransformersGenerate` and `Generate.BeamSearchIsHfTransformersGenerate`. Run
where `transformers` is installed (the GPU machine: scripts/gpu_checks.sh generate); CPU, eager
attention, so the numbers do not depend on the GPU.

    python3 scripts/make_hf_generate_fixture.py tests/fixtures/hf > tests/fixtures/hf/gpt2_generate.json

Greedy (stdout) on the committed HF GPT-2 fixture (tests/fixtures/hf/gpt2_lm, made by
scripts/make_hf_fixtures.py), fp32:
Prompts of several lengths (seeded random ids), each decoded alone by `model.generate` with
do_sample=False, num_beams=1 and no eos (every row runs max_new_tokens), and the smallest gap
between the chosen token's logit and the runner-up over every step: lntune's logits equal HF's
to 1e-5 (HfParity.Gpt2LMHeadModel), so where that gap is larger the argmax cannot differ, and
the test asserts the same ids.

Beam search (written beside: FOLDER/gpt2_beam_lm, a GPT-2 of 512 tokens whose weights are drawn
with standard deviation 0.3 so that its next-token distributions are peaked and beams rarely tie,
and FOLDER/gpt2_beam_generate.json): each prompt alone through `model.generate` with
num_beams > 1 under several settings (length_penalty, early_stopping False / True / "never",
no_repeat_ngram_size), an eos the model often writes; the text (eos and what follows dropped)
and `sequences_scores`. Each row is decoded in fp32 and again in fp64: "stable" says the two
wrote the same text (no pruning decided by a near-tie), the rows the test compares.
"""
import json
import os
import sys

import torch
from transformers import GPT2LMHeadModel

MAX_NEW = 16
# (num_beams, length_penalty, early_stopping, no_repeat_ngram_size): HF's defaults, the LoRA
# paper's E2E settings (beam 10 there), and each early-stopping rule.
BEAM_SETTINGS = [(4, 1.0, False, 0), (5, 0.9, False, 4), (3, 2.0, "never", 0), (4, -0.5, True, 2), (2, 1.0, False, 3)]
BEAM_NEW = 12


def beam_fixture(folder):
    from transformers import GPT2Config
    cfg = GPT2Config(vocab_size=512, n_embd=32, n_layer=2, n_head=4, n_positions=64, initializer_range=0.3,
                     attn_implementation="eager")
    cfg.architectures = ["GPT2LMHeadModel"]
    torch.manual_seed(3)
    model = GPT2LMHeadModel(cfg).eval()
    out_dir = os.path.join(folder, "gpt2_beam_lm")
    model.save_pretrained(out_dir, safe_serialization=True)
    model = GPT2LMHeadModel.from_pretrained(out_dir, attn_implementation="eager").eval()  # as saved
    model64 = GPT2LMHeadModel.from_pretrained(out_dir, attn_implementation="eager").double().eval()
    g = torch.Generator().manual_seed(12)
    # The eos: the token most likely next on average over random contexts, so that beams end.
    with torch.no_grad():
        ctx = torch.randint(0, 512, (16, 6), generator=g)
        eos = int(torch.log_softmax(model(ctx).logits[:, -1], -1).mean(0).argmax())
    rows = []
    for nb, lp, early, no_repeat in BEAM_SETTINGS:
        for length in (1, 4, 9):
            prompt = torch.randint(0, 512, (1, length), generator=g)
            texts, scores = [], []
            for m in (model, model64):
                with torch.no_grad():
                    out = m.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=BEAM_NEW,
                                     do_sample=False, num_beams=nb, length_penalty=lp, early_stopping=early,
                                     no_repeat_ngram_size=no_repeat, eos_token_id=eos, pad_token_id=eos,
                                     num_return_sequences=1, output_scores=True, return_dict_in_generate=True)
                text = out.sequences[0, length:].tolist()
                texts.append(text[:text.index(eos)] if eos in text else text)
                scores.append(float(out.sequences_scores[0]))
            rows.append({"prompt": prompt[0].tolist(), "num_beams": nb, "length_penalty": lp, "early_stopping": early,
                         "no_repeat_ngram_size": no_repeat, "max_new_tokens": BEAM_NEW, "eos_token_id": eos,
                         "generated": texts[0], "score": scores[0], "stable": texts[0] == texts[1]})
    import transformers
    with open(os.path.join(folder, "gpt2_beam_generate.json"), "w") as f:
        json.dump({"model": "gpt2_beam_lm", "transformers": transformers.__version__, "torch": torch.__version__,
                   "rows": rows}, f, indent=1)
        f.write("\n")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/hf"
    beam_fixture(root)
    folder = os.path.join(root, "gpt2_lm")
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
