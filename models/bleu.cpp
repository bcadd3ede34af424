// models/bleu.cpp — corpus_bleu.
#include "models/bleu.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace s2a {

namespace {

// How often each n-gram (as a vector of tokens) occurs in s.
std::map<std::vector<int>, int> ngram_counts(const std::vector<int>& s, int n) {
    std::map<std::vector<int>, int> counts;
    for (size_t i = 0; i + n <= s.size(); ++i) ++counts[std::vector<int>(s.begin() + i, s.begin() + i + n)];
    return counts;
}

}  // namespace

BleuScore corpus_bleu(const std::vector<std::vector<int>>& hyps, const std::vector<std::vector<int>>& refs, int max_n) {
    if (hyps.size() != refs.size())
        throw std::invalid_argument(fmt::format("corpus_bleu: {} hypotheses but {} references", hyps.size(), refs.size()));
    if (max_n < 1) throw std::invalid_argument(fmt::format("corpus_bleu: max_n must be at least 1, got {}", max_n));
    BleuScore s;
    s.matches.assign(max_n, 0);
    s.total.assign(max_n, 0);
    for (size_t i = 0; i < hyps.size(); ++i) {
        s.hypothesis_length += static_cast<long>(hyps[i].size());
        s.reference_length += static_cast<long>(refs[i].size());
        for (int n = 1; n <= max_n; ++n) {
            const auto ref = ngram_counts(refs[i], n);
            for (const auto& [gram, count] : ngram_counts(hyps[i], n)) {
                const auto found = ref.find(gram);
                s.matches[n - 1] += std::min(count, found == ref.end() ? 0 : found->second);  // clipped
                s.total[n - 1] += count;
            }
        }
    }
    double log_sum = 0;
    bool zero = false;
    for (int n = 0; n < max_n; ++n) {
        s.precision.push_back(s.total[n] ? double(s.matches[n]) / s.total[n] : 0);
        if (s.precision[n] == 0) zero = true;
        else log_sum += std::log(s.precision[n]) / max_n;
    }
    const double c = double(s.hypothesis_length), r = double(s.reference_length);
    s.brevity_penalty = c > r ? 1 : (c > 0 ? std::exp(1 - r / c) : 0);
    s.bleu = zero ? 0 : s.brevity_penalty * std::exp(log_sum);
    return s;
}

std::vector<int> bleu_tokens(const std::string& s, char pad) {
    const size_t end = s.find_last_not_of(pad);
    return end == std::string::npos ? std::vector<int>{} : std::vector<int>(s.begin(), s.begin() + end + 1);
}

}  // namespace s2a
