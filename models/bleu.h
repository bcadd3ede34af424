// models/bleu.h — corpus BLEU (Papineni et al., 2002): how many of the hypotheses' n-grams appear in the
// references, for n = 1..4, with a penalty for hypotheses shorter than the references.
//
// For a corpus of hypotheses h and references r (one reference per hypothesis, token sequences):
//   p_n  = Σ clipped matches of n-grams / Σ n-grams of the hypotheses      (sums over the whole corpus)
//          "clipped": an n-gram counts at most as often as it occurs in its reference, so "the the the"
//          does not score 3/3 against "the cat"
//   BP   = 1 if c > r, else exp(1 - r / c)       c, r: total hypothesis and reference lengths
//   BLEU = BP · exp(Σₙ (1/N) log p_n)            the geometric mean of p_1..p_N, N = 4
// Precision alone rewards saying little (one sure word scores p = 1): the brevity penalty takes that back.
// If some p_n is 0 the geometric mean, and so BLEU, is 0 (no smoothing). Corpus BLEU is not the mean of
// sentence scores: the counts are summed first, which is what makes it stable on short sentences.
// Here a token is whatever the caller makes it; the chapters use characters, the answers without padding.
#pragma once

#include <string>
#include <vector>

namespace s2a {

struct BleuScore {
    double bleu = 0;                 // in [0, 1]
    std::vector<double> precision;   // p_1 .. p_N
    std::vector<long> matches, total;  // the clipped matches and the n-gram counts behind each p_n
    double brevity_penalty = 0;
    long hypothesis_length = 0, reference_length = 0;  // c and r
};

// Throws std::invalid_argument if the two lists differ in length or max_n < 1.
BleuScore corpus_bleu(const std::vector<std::vector<int>>& hypotheses, const std::vector<std::vector<int>>& references,
                      int max_n = 4);

// The characters of s, without its trailing padding: the tokens BLEU compares in the chapters.
std::vector<int> bleu_tokens(const std::string& s, char pad = ' ');

}  // namespace s2a
