// Reference ids from HF `tokenizers` (the official Node binding), configured as HF's
// BertTokenizerFast / GPT2TokenizerFast are: BertNormalizer(lowercase) + BertPreTokenizer +
// WordPiece + [CLS]/[SEP] post-processing; ByteLevel(add_prefix_space=false) + BPE.
//
// usage: node oracle.js <bert|gpt2> <tokenizer dir> <lines file> [--pairs] [--max-length N]
//                       [--type-ids] [--save-json OUT]
// Prints one line per input line in `lntune tokenize`'s format.
"use strict";
const t = require("tokenizers");
const fs = require("fs");

async function build(kind, dir) {
  let tok;
  if (kind === "bert") {
    tok = new t.Tokenizer(await t.WordPiece.fromFile(dir + "/vocab.txt", { unkToken: "[UNK]" }));
    tok.setNormalizer(t.bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: true }));
    tok.setPreTokenizer(t.bertPreTokenizer());
    tok.setPostProcessor(t.bertProcessing(["[SEP]", tok.tokenToId("[SEP]")], ["[CLS]", tok.tokenToId("[CLS]")]));
    tok.addSpecialTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  } else if (kind === "gpt2") {
    tok = new t.Tokenizer(await t.BPE.fromFile(dir + "/vocab.json", dir + "/merges.txt"));
    tok.setPreTokenizer(t.byteLevelPreTokenizer(false, true));
    tok.addSpecialTokens(["<|endoftext|>"]);
  } else {
    throw new Error("kind must be bert or gpt2");
  }
  return tok;
}

async function main() {
  const [kind, dir, file, ...rest] = process.argv.slice(2);
  const flag = (f) => rest.includes(f);
  const value = (f) => (rest.includes(f) ? rest[rest.indexOf(f) + 1] : undefined);
  const tok = await build(kind, dir);
  const maxLength = Number(value("--max-length") || 0);
  if (maxLength > 0) tok.setTruncation(maxLength, { strategy: t.TruncationStrategy.LongestFirst });
  if (value("--save-json")) tok.save(value("--save-json"));
  if (!file) return;
  const lines = fs.readFileSync(file, "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const out = [];
  for (const line of lines) {
    let e;
    if (flag("--pairs")) {
      const tab = line.indexOf("\t");
      e = tab < 0 ? await tok.encode(line, "") : await tok.encode(line.slice(0, tab), line.slice(tab + 1));
    } else {
      e = await tok.encode(line);
    }
    let s = e.getIds().join(" ");
    if (flag("--type-ids")) s += " |" + e.getTypeIds().map((x) => " " + x).join("");
    out.push(s);
  }
  process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
}

main().catch((err) => {
  console.error("oracle: " + err.message);
  process.exit(1);
});
