// models/decoding.cpp — greedy decoding and beam search over a model's step function, and the row helpers.
//
// Dimensions: B batch, k beam, R rows decoded at once (B or B·k), V vocabulary, L answer length.
#include "models/decoding.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace s2a {

namespace {

// Throws ShapeError unless a step gave log-probabilities (R, V) for the R rows it was asked for.
void check_step(const char* op, const Tensor& logp, int R) {
    if (logp.ndim() != 2 || logp.dim(0) != R)
        shape_error(op, fmt::format("the step must return log-probabilities (R, V) for R = {} rows", R), {logp.shape});
}

}  // namespace

// ---------------------------------------------------------------- greedy decoding

IndexTensor greedy_decode(const DecodeTask& task, const DecodeStep& step) {
    const int B = task.batch, L = task.length;
    IndexTensor prev(Shape{B}, task.start_id);  // (B) the tokens the next step reads
    IndexTensor out(Shape{B, L});               // (B, L)
    std::vector<bool> ended(B, false);
    for (int t = 0; t < L; ++t) {
        const Tensor logp = step(prev);  // (B, V)
        check_step("greedy_decode", logp, B);
        const int V = logp.dim(1);
        for (int b = 0; b < B; ++b) {
            const Real* row = logp.ptr() + int64_t(b) * V;
            // the most probable token (the first of equals), or the end symbol again once the answer has ended
            const int token = ended[b] ? task.end_id : static_cast<int>(std::max_element(row, row + V) - row);
            prev[b] = token;
            out[int64_t(b) * L + t] = token;
            ended[b] = ended[b] || token == task.end_id;
        }
    }
    return out;
}

// ---------------------------------------------------------------- beam search

namespace {

// One way to extend a hypothesis by one token.
struct Candidate {
    int parent;     // the row it extends
    int token;      // the token it appends
    double score;   // log P of the extended hypothesis
    double logp;    // log P of this one token (0 for an ended hypothesis's forced end symbol)
    double key;     // score / lp(len): what hypotheses are ranked by
    int len;        // L, up to and including the end symbol
};

// The order of the candidates: higher keys first; equal keys go to the more probable step, then to the lower
// row and token, so that with k = 1 the choice is exactly greedy decoding's (the first most probable token).
bool ranks_before(const Candidate& a, const Candidate& c) {
    if (a.key != c.key) return a.key > c.key;
    if (a.logp != c.logp) return a.logp > c.logp;
    return a.parent != c.parent ? a.parent < c.parent : a.token < c.token;
}

}  // namespace

BeamResult beam_search(const DecodeTask& task, int k, Real alpha, const DecodeStep& step, const ReorderRows& reorder) {
    if (k < 1) throw std::invalid_argument(fmt::format("beam_search: the beam size must be at least 1, got {}", k));
    const int B = task.batch, R = B * k, L = task.length, end_id = task.end_id;
    const double dead = -std::numeric_limits<double>::infinity();
    const auto penalty = [alpha](int len) { return std::pow((5.0 + len) / 6.0, double(alpha)); };  // lp(L)

    // Hypothesis state, row b·k + j for sentence b's hypothesis j. Only beam 0 of each sentence is alive at
    // first, so the first step's k best are k different tokens rather than k copies of the same one.
    std::vector<double> score(R, dead);  // log P of the tokens so far; dead: no hypothesis in this row
    std::vector<int> len(R, 0);          // L, up to and including the end symbol
    std::vector<bool> ended(R, false);
    for (int b = 0; b < B; ++b) score[int64_t(b) * k] = 0;
    IndexTensor tokens(Shape{R, L});             // (R, L) each hypothesis's tokens so far
    IndexTensor prev(Shape{R}, task.start_id);   // (R) the tokens the next step reads

    std::vector<Candidate> cand;
    for (int t = 0; t < L; ++t) {
        const Tensor logp = step(prev);  // (R, V)
        check_step("beam_search", logp, R);
        const int V = logp.dim(1);
        std::vector<int> parents(R);
        std::vector<double> new_score(R, dead);
        std::vector<int> new_len(R, 0);
        std::vector<int> new_token(R, end_id < 0 ? 0 : end_id);
        std::vector<bool> new_ended(R, false);
        for (int b = 0; b < B; ++b) {
            cand.clear();
            for (int j = 0; j < k; ++j) {
                const int r = b * k + j;
                if (score[r] == dead) continue;
                if (ended[r]) {  // an ended hypothesis goes on only with the end symbol, at no cost
                    cand.push_back({r, end_id, score[r], 0, score[r] / penalty(len[r]), len[r]});
                    continue;
                }
                for (int v = 0; v < V; ++v) {
                    const double token_logp = logp[int64_t(r) * V + v];
                    const double s = score[r] + token_logp;
                    cand.push_back({r, v, s, token_logp, s / penalty(t + 1), t + 1});
                }
            }
            const int keep = std::min<int>(k, static_cast<int>(cand.size()));
            std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), ranks_before);
            for (int j = 0; j < k; ++j) {
                const int r = b * k + j;
                parents[r] = j < keep ? cand[j].parent : b * k;  // an unfilled beam stays dead
                if (j >= keep) continue;
                new_score[r] = cand[j].score;
                new_len[r] = cand[j].len;
                new_token[r] = cand[j].token;
                new_ended[r] = ended[cand[j].parent] || cand[j].token == end_id;
            }
        }
        // Every hypothesis continues from its parent: its tokens and the model's state move with it.
        tokens = take_rows(tokens, parents);
        reorder(parents);
        for (int r = 0; r < R; ++r) {
            prev[r] = new_token[r];
            tokens[int64_t(r) * L + t] = new_token[r];
        }
        score = std::move(new_score);
        len = std::move(new_len);
        ended = std::move(new_ended);
    }
    // The candidates were sorted by their keys, so each sentence's beams are its n-best list, beam 0 the best.
    BeamResult result;
    std::vector<int> best;
    for (int b = 0; b < B; ++b) {
        best.push_back(b * k);
        result.nbest.emplace_back();
        for (int r = b * k; r < (b + 1) * k && score[r] != dead; ++r) {
            const auto first = tokens.data.begin() + int64_t(r) * L;
            result.nbest.back().push_back({std::vector<int>(first, first + L), score[r], score[r] / penalty(len[r]), len[r]});
        }
    }
    result.best = take_rows(tokens, best);  // (B, L)
    return result;
}

// ---------------------------------------------------------------- rows

Tensor take_rows(const Tensor& x, const std::vector<int>& rows) {
    Shape s = x.shape;
    const int64_t row = x.dim(0) ? x.numel() / x.dim(0) : 0;  // elements per row
    s[0] = static_cast<int>(rows.size());
    Tensor out = Tensor::uninitialized(s);  // (rows.size(), ...): every row written below
    for (size_t i = 0; i < rows.size(); ++i) std::copy_n(x.ptr() + rows[i] * row, row, out.ptr() + int64_t(i) * row);
    return out;
}

IndexTensor take_rows(const IndexTensor& x, const std::vector<int>& rows) {
    const int L = x.shape[1];
    IndexTensor out(Shape{static_cast<int>(rows.size()), L});  // (rows.size(), L)
    for (size_t i = 0; i < rows.size(); ++i)
        std::copy_n(x.data.begin() + int64_t(rows[i]) * L, L, out.data.begin() + int64_t(i) * L);
    return out;
}

Var take_rows(const Var& x, const std::vector<int>& rows) {
    // All of x's rows in their order (greedy decoding's start: one copy of each sentence) is x itself, when x is
    // a constant already: no copy. Decoding never writes into a value in place, so sharing it is safe.
    bool all_in_order = !x.requires_grad() && int64_t(rows.size()) == x.dim(0);
    for (size_t i = 0; all_in_order && i < rows.size(); ++i) all_in_order = rows[i] == int(i);
    return all_in_order ? x : constant(take_rows(x.value(), rows));
}

std::vector<int> repeated_rows(int B, int copies) {
    std::vector<int> rows;
    for (int b = 0; b < B; ++b) rows.insert(rows.end(), copies, b);
    return rows;
}

}  // namespace s2a
