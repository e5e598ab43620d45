// Scores of generated text against references (E2E NLG): corpus BLEU-4, NIST-5, ROUGE-L and
// CIDEr, the E2E challenge's metrics but METEOR (which needs METEOR 1.5's Java scorer and its
// paraphrase tables). Torch-free.
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

// Corpus NIST (Doddington 2002) over n = 1..5, as NLTK's corpus_nist computes it: information
// weights log2(count(w1..wn-1) / count(w1..wn)) from every reference of the corpus (the total
// reference word count for unigrams); per order and hypothesis the reference with the best
// information-weighted precision (ties: more information, then the longer reference) gives the
// clipped matches, summed over the corpus; the per-order precisions summed, times the length
// penalty exp(log(0.5) / log(1.5)^2 * log(r)^2) for r = hypothesis words / best references' words
// < 1. (mteval-v13a clips against the references' merged counts and uses their mean length
// instead.) An order no hypothesis reaches adds 0, where NLTK divides by zero. In [0, inf).
double corpus_nist(const std::vector<Words>& hyps, const std::vector<std::vector<Words>>& refs);

// CIDEr as the E2E challenge's scripts compute it (pycocoevalcap's Cider, i.e. CIDEr-D of
// Vedantam et al. 2015): per n = 1..4 TF-IDF vectors, the document frequency of an n-gram counted
// over the hypotheses' reference sets and the IDF log(hypotheses) - log(max(1, df)); per
// reference the cosine of the hypothesis's clipped vector with the reference's times the length
// penalty exp(-d^2 / 72), d the difference of their bigram counts; the mean over n and over the
// references, times 10; the mean over hypotheses. A vector of norm 0 scores 0. In [0, 10].
double cider(const std::vector<Words>& hyps, const std::vector<std::vector<Words>>& refs);

// The named metrics ("bleu", "nist", "rouge_l", "cider") of generated texts against their
// references.
std::map<std::string, double> text_metrics(const std::vector<std::string>& names, const std::vector<std::string>& hyps,
                                           const std::vector<std::vector<std::string>>& refs);

}  // namespace lntune
