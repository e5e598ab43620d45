#!/usr/bin/python3
"""Linear probes of frozen BERT features on SST-2: does pretraining put sentiment into them?

For each model folder, the final hidden states of the first N SST-2 training sentences and of
all dev sentences are computed with a plain eager BERT (the module tree of
scripts/make_seeded_fixtures.py), pooled two ways — the [CLS] vector that fine-tuning's
classifier reads, and the mean over the sentence's tokens — and an L2-regularised logistic
regression is fitted on train and scored on dev. Also printed: the mean cosine similarity of the
[CLS] vectors of different sentences (near 1: [CLS] says almost nothing about the input).

Usage: /usr/bin/python3 scripts/probe_features.py LNTUNE_BIN NAME=MODEL_DIR [NAME=MODEL_DIR ...]
  env: SST2_DIR (default ../shared/data/glue/SST-2), PROBE_TRAIN (4000), PROBE_MAXLEN (64)
"""
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_seeded_fixtures import BertForSequenceClassification  # noqa: E402
from plot_runs import read_safetensors  # noqa: E402


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            text, label = line.rstrip("\n").split("\t")
            rows.append((text, int(label)))
    return rows


def tokenize(lntune, tok_dir, texts, max_len):
    r = subprocess.run([lntune, "tokenize", "--tokenizer", tok_dir, "--max-length", str(max_len)],
                       input="\n".join(texts) + "\n", capture_output=True, text=True, check=True)
    return [[int(x) for x in line.split()] for line in r.stdout.splitlines()]


def features(model_dir, ids_list):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    cfg.setdefault("id2label", {"0": "a", "1": "b"})
    cfg.setdefault("layer_norm_eps", 1e-12)
    cfg.setdefault("type_vocab_size", 2)
    cfg.setdefault("pad_token_id", 0)
    m = BertForSequenceClassification(cfg)
    state = {k: torch.from_numpy(v).float() for k, v in read_safetensors(os.path.join(model_dir, "model.safetensors")).items()
             if k.startswith("bert.") and not k.startswith("bert.pooler")}
    missing, _ = m.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith(("bert.pooler", "classifier"))]
    assert not missing, f"{model_dir}: missing {missing}"
    m.eval()
    cls, mean = [], []
    with torch.no_grad():
        for i in range(0, len(ids_list), 128):
            chunk = ids_list[i:i + 128]
            T = max(len(x) for x in chunk)
            ids = torch.zeros(len(chunk), T, dtype=torch.long)
            mask = torch.zeros(len(chunk), T, dtype=torch.long)
            for j, x in enumerate(chunk):
                ids[j, :len(x)] = torch.tensor(x)
                mask[j, :len(x)] = 1
            h = m(ids, mask, torch.zeros_like(ids))[-1]
            cls.append(h[:, 0])
            w = mask.unsqueeze(-1).float()
            mean.append((h * w).sum(1) / w.sum(1))
    return torch.cat(cls), torch.cat(mean)


def probe(xtr, ytr, xdv, ydv, l2=1e-3):
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    xtr, xdv = (xtr - mu) / sd, (xdv - mu) / sd
    w = torch.zeros(xtr.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=500, line_search_fn="strong_wolfe")
    y = ytr.float()

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xtr @ w + b, y) + l2 * (w * w).sum()
        loss.backward()
        return loss
    opt.step(closure)
    with torch.no_grad():
        return ((xdv @ w + b > 0).long() == ydv).float().mean().item()


def mean_cosine(x):
    x = torch.nn.functional.normalize(x, dim=1)
    s = x @ x.T
    n = x.shape[0]
    return ((s.sum() - n) / (n * (n - 1))).item()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    torch.manual_seed(0)
    lntune = sys.argv[1]
    sst2 = os.environ.get("SST2_DIR", "../shared/data/glue/SST-2")
    n, max_len = int(os.environ.get("PROBE_TRAIN", "4000")), int(os.environ.get("PROBE_MAXLEN", "64"))
    train, dev = read_tsv(os.path.join(sst2, "train.tsv"))[:n], read_tsv(os.path.join(sst2, "dev.tsv"))
    ytr, ydv = torch.tensor([y for _, y in train]), torch.tensor([y for _, y in dev])
    print(f"SST-2: {len(train)} train / {len(dev)} dev sentences, final-layer features, logistic probe")
    print("| model | probe on [CLS] | probe on mean of tokens | mean cosine of [CLS] vectors |")
    print("|---|---|---|---|")
    for spec in sys.argv[2:]:
        name, model_dir = spec.split("=", 1)
        cfg = json.load(open(os.path.join(model_dir, "config.json")))
        tok_dir = model_dir if os.path.exists(os.path.join(model_dir, "vocab.txt")) else "../shared/tokenizers/bert-base-uncased"
        assert cfg["vocab_size"] >= 30522
        ctr, mtr = features(model_dir, tokenize(lntune, tok_dir, [t for t, _ in train], max_len))
        cdv, mdv = features(model_dir, tokenize(lntune, tok_dir, [t for t, _ in dev], max_len))
        print(f"| {name} | {100 * probe(ctr, ytr, cdv, ydv):.1f}% | {100 * probe(mtr, ytr, mdv, ydv):.1f}% | "
              f"{mean_cosine(cdv):.3f} |", flush=True)


if __name__ == "__main__":
    main()
