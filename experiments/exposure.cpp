// experiments/exposure.cpp — the exposure-bias meter, decoding the test set, breakdowns by group.
#include "experiments/exposure.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "io/plot.h"

namespace s2a {

void ExposureMeter::measure(Seq2seqModel& model, const Batcher& test, int start_id) {
    NoGrad no_grad;
    EvalMode eval(model);
    int64_t counted = 0, forced_right = 0, free_right = 0;
    for (int i = 0; i < test.num_batches(); ++i) {
        const Batch batch = test.batch(i);
        const int B = batch.tgt.shape[0], T = batch.tgt.shape[1] - 1;
        const IndexTensor targets = answer_targets(batch.tgt, model.end_id());  // (B, T), -1 after the end
        const IndexTensor own = model.generate(batch.src, start_id, T);        // (B, T) free-running
        const DecoderSteps decoder = model.steps(batch.src, 1);
        IndexTensor prev(Shape{B}, start_id);  // (B): the true previous tokens, the start symbol first
        for (int t = 0; t < T; ++t) {
            const Tensor logp = decoder.step(prev);  // (B, V) given the true prefix
            const int V = logp.dim(1);
            for (int b = 0; b < B; ++b) {
                const int target = targets[int64_t(b) * T + t];
                prev[b] = batch.tgt[int64_t(b) * (T + 1) + t + 1];
                if (target < 0) continue;  // after the end: forced in decoding, not judged
                const Real* row = logp.ptr() + int64_t(b) * V;
                ++counted;
                forced_right += std::max_element(row, row + V) - row == target;
                free_right += own[int64_t(b) * T + t] == target;
            }
        }
    }
    forced.push_back(counted ? static_cast<double>(forced_right) / counted : 0);
    free.push_back(counted ? static_cast<double>(free_right) / counted : 0);
}

void report_exposure(const std::vector<Contender>& contenders, const std::vector<ExposureMeter>& meters, const std::string& path) {
    fmt::print("\nThe exposure-bias meter (test token accuracy: teacher-forced, free-running, and the gap):\n{:>6}", "epoch");
    for (const Contender& c : contenders) fmt::print("  {:>30}", c.name + ": forced / free / gap");
    fmt::print("\n");
    LinePlot plot{"Teacher-forced and free-running token accuracy", "epoch", "test token accuracy (%)", {}};
    for (const Contender& c : contenders)
        for (const char* kind : {"forced", "free"}) plot.series.push_back({c.name + ", " + kind, {}, {}});
    for (size_t e = 0; e < meters[0].free.size(); ++e) {
        fmt::print("{:>6}", e + 1);
        for (size_t m = 0; m < contenders.size(); ++m) {
            const double forced = meters[m].forced[e], free = meters[m].free[e];
            fmt::print("  {:>30}", fmt::format("{:.2f}% / {:.2f}% / {:.2f}", 100 * forced, 100 * free, 100 * (forced - free)));
            plot.series[2 * m].x.push_back(e + 1.0);
            plot.series[2 * m].y.push_back(100 * forced);
            plot.series[2 * m + 1].x.push_back(e + 1.0);
            plot.series[2 * m + 1].y.push_back(100 * free);
        }
        fmt::print("\n");
    }
    write_line_plot(path, plot);
}

Decoded decode_test(Seq2seqModel& model, const Batcher& test, int start_id, int k, Real alpha) {
    Decoded d;
    d.name = k == 1 ? "greedy" : fmt::format("beam k={}", k);
    for (int i = 0; i < test.num_batches(); ++i) {
        const Batch batch = test.batch(i);
        const int B = batch.tgt.shape[0], L = batch.tgt.shape[1], T = L - 1;
        // k = 1 is greedy decoding itself (beam search with k = 1 gives the same answers: tests/test_decoding.cpp)
        const BeamResult r = k == 1 ? BeamResult{model.generate(batch.src, start_id, T), {}}
                                    : model.nbest(batch.src, start_id, T, k, alpha);
        for (int b = 0; b < B; ++b) {
            const auto first = r.best.data.begin() + int64_t(b) * T;
            d.correct.push_back(std::equal(first, first + T, batch.tgt.data.begin() + int64_t(b) * L + 1));
            d.nbest.push_back(k == 1 ? std::vector<Hypothesis>{{std::vector<int>(first, first + T), 0, 0, T}} : r.nbest[b]);
        }
    }
    d.exact = d.correct.empty() ? 0 : static_cast<double>(std::count(d.correct.begin(), d.correct.end(), true)) / d.correct.size();
    return d;
}

std::vector<double> accuracy_by_group(const std::vector<bool>& correct, const std::vector<int>& group, int groups,
                                      std::vector<int>* counts) {
    std::vector<int> hits(groups, 0), n(groups, 0);
    for (size_t i = 0; i < correct.size(); ++i) {
        hits[group[i]] += correct[i];
        ++n[group[i]];
    }
    std::vector<double> accuracy;
    for (int g = 0; g < groups; ++g) accuracy.push_back(n[g] ? static_cast<double>(hits[g]) / n[g] : NAN);
    if (counts) *counts = n;
    return accuracy;
}

void report_groups(const std::string& title, const std::string& group_name, const std::vector<Decoded>& decodings,
                   const std::vector<int>& group, int groups, const std::string& path) {
    fmt::print("\n{}\n{:>8} {:>9}", title, group_name, "examples");
    for (const Decoded& d : decodings) fmt::print(" {:>10}", d.name);
    fmt::print("\n");
    std::vector<int> counts;
    std::vector<std::vector<double>> accuracy;  // [decoding][group]
    for (const Decoded& d : decodings) accuracy.push_back(accuracy_by_group(d.correct, group, groups, &counts));
    LinePlot plot{title, group_name, "test exact match (%)", {}};
    for (const Decoded& d : decodings) plot.series.push_back({d.name, {}, {}});
    for (int g = 0; g < groups; ++g) {
        if (!counts[g]) continue;
        fmt::print("{:>8} {:>9}", g, counts[g]);
        for (size_t m = 0; m < decodings.size(); ++m) {
            fmt::print(" {:>9.1f}%", 100 * accuracy[m][g]);
            plot.series[m].x.push_back(g);
            plot.series[m].y.push_back(100 * accuracy[m][g]);
        }
        fmt::print("\n");
    }
    write_line_plot(path, plot);
}

std::string answer_text(const std::vector<int>& tokens, const Vocab& vocab, int end_id) {
    const auto end = std::find(tokens.begin(), tokens.end(), end_id);
    return vocab.decode(std::vector<int>(tokens.begin(), end));
}

void print_nbest(const std::vector<Hypothesis>& nbest, const Vocab& vocab, int end_id) {
    for (const Hypothesis& h : nbest)
        fmt::print("    {:<16} log P {:8.3f}   key {:8.3f}\n", '"' + answer_text(h.tokens, vocab, end_id) + '"', h.log_prob, h.key);
}

}  // namespace s2a
