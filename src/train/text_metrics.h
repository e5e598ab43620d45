// Scores of generated text against references (E2E NLG): corpus BLEU-4 and ROUGE-L. Torch-free.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace lntune {

using Words = std::vector<std::string>;

// The words metrics compare: ASCII letters lower-cased; a word is a maximal run of letters,
// digits, apostrophes and non-ASCII characters, and every other non-space character is a word of
// its own (punctuation split off, as mteval's 13a tokenizer does).
Words metric_words(const std::string& text);

// Corpus BLEU-4 (Papineni et al. 2002) with several references per hypothesis, as NLTK's
// corpus_bleu computes it: n-gram counts clipped by their most in any one reference and summed
// over the corpus, uniform weights over n = 1..4, the brevity penalty against each hypothesis's
// closest reference length (the shorter on a tie). No smoothing: 0 when some order has no match.
// In [0, 1].
double corpus_bleu(const std::vector<Words>& hyps, const std::vector<std::vector<Words>>& refs);

// ROUGE-L as the E2E challenge's scripts compute it (pycocoevalcap's Rouge): per hypothesis the
// longest common subsequence against each reference, precision and recall each the best over the
// references, F with beta 1.2; the mean over hypotheses. In [0, 1].
double rouge_l(const std::vector<Words>& hyps, const std::vector<std::vector<Words>>& refs);

// The named metrics ("bleu", "rouge_l") of generated texts against their references.
std::map<std::string, double> text_metrics(const std::vector<std::string>& names, const std::vector<std::string>& hyps,
                                           const std::vector<std::vector<std::string>>& refs);

}  // namespace lntune
