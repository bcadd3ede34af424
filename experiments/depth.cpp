// experiments/depth.cpp — chapter 4's harness: the list of depths, the plain and residual variants,
// the gradient norm of every LSTM layer after one backward pass, and its table, plot and summary.
#include "experiments/depth.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "autodiff/tape.h"
#include "nn/grad_norms.h"

namespace s2a {

std::vector<int> parse_depths(const std::string& text) {
    std::vector<int> depths;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        size_t used = 0;
        int depth = 0;
        try {
            depth = std::stoi(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || depth < 1 || depth > kMaxDepth)
            throw std::invalid_argument(fmt::format("--depths: '{}' is not a number of layers from 1 to {}", item, kMaxDepth));
        depths.push_back(depth);
    }
    if (depths.empty()) throw std::invalid_argument("--depths: give at least one depth, e.g. 1,4,8");
    return depths;
}

std::string Variant::name() const {
    return depth == 1 ? "1 layer" : fmt::format("{} {}", depth, residual ? "residual" : "plain");
}

std::vector<Variant> variants(const std::vector<int>& depths) {
    std::vector<Variant> all;
    for (int depth : depths) {
        all.push_back({depth, false});
        if (depth > 1) all.push_back({depth, true});
    }
    return all;
}

std::unique_ptr<AttentionSeq2seq> deep_model(AttentionConfig base, const Variant& v, double dropout, uint64_t seed) {
    base.layers = v.depth;
    base.residual = v.residual;
    base.dropout = Real(dropout);
    Rng rng(seed);
    return std::make_unique<AttentionSeq2seq>(base, rng);
}

LayerNorms measure(Seq2seqModel& model, const Variant& v, const Batch& batch) {
    backward(model.loss(batch.src, batch.tgt));
    tape().clear();
    LayerNorms r{v, {}, {}};
    for (const GradNorm& g : layer_grad_norms(model, "encoder.lstm.layer")) r.encoder.push_back(g.norm);
    for (const GradNorm& g : layer_grad_norms(model, "decoder.lstm.layer")) r.decoder.push_back(g.norm);
    return r;
}

void report_norms(const std::vector<LayerNorms>& all, const std::string& path) {
    int max_depth = 0;
    for (const LayerNorms& m : all) max_depth = std::max(max_depth, m.model.depth);
    fmt::print("{:<12} {:<8}", "model", "stack");
    for (int l = 1; l <= max_depth; ++l) fmt::print(" {:>8}", fmt::format("layer {}", l));
    fmt::print("  {:>10}\n", "bottom/top");
    LinePlot plot{"Chapter 4: gradient norm of each LSTM layer at initialisation", "layer (1 = bottom)",
                  "log10 of the gradient norm", {}};
    plot.y_from_zero = false;
    for (const LayerNorms& m : all)
        for (const auto& [stack, norms] : {std::pair{"encoder", &m.encoder}, std::pair{"decoder", &m.decoder}}) {
            fmt::print("{:<12} {:<8}", m.model.name(), stack);
            Series s{fmt::format("{}, {}", m.model.name(), stack), {}, {}};
            for (int l = 0; l < max_depth; ++l) {
                fmt::print(" {:>8}", l < int(norms->size()) ? fmt::format("{:.2e}", (*norms)[l]) : "");
                if (l < int(norms->size())) {
                    s.x.push_back(l + 1);
                    s.y.push_back(std::log10((*norms)[l]));
                }
            }
            fmt::print("  {:>10.3g}\n", m.ratio(*norms));
            if (norms->size() > 1) plot.series.push_back(s);  // a single layer is a point, not a curve
        }
    write_line_plot(path, plot);
    for (const LayerNorms& plain : all)
        for (const LayerNorms& residual : all)
            if (plain.model.depth == residual.model.depth && !plain.model.residual && residual.model.residual)
                fmt::print("Depth {}: bottom/top gradient norm {:.3g} (encoder) and {:.3g} (decoder) without residual "
                           "connections, {:.3g} and {:.3g} with them.\n", plain.model.depth, plain.ratio(plain.encoder),
                           plain.ratio(plain.decoder), residual.ratio(residual.encoder), residual.ratio(residual.decoder));
}

void report_depths(const std::vector<Contender>& models, const std::vector<Variant>& variants) {
    fmt::print("\n{:<12} {:>10} {:>12} {:>10}  {:>12} {:>10}\n", "model", "parameters", "final match", "best", "first ≥ 99%",
               "time");
    double deep_residual = 0;
    for (size_t m = 0; m < models.size(); ++m) {
        const std::vector<double>& acc = models[m].accuracy;
        const auto first99 = std::find_if(acc.begin(), acc.end(), [](double a) { return a >= 0.99; });
        const std::string when = first99 == acc.end() ? "never" : fmt::format("epoch {}", first99 - acc.begin() + 1);
        fmt::print("{:<12} {:>10} {:>11.2f}% {:>9.2f}%  {:>12} {:>9.1f}s\n", models[m].name, models[m].model->num_parameters(),
                   100 * acc.back(), 100 * *std::max_element(acc.begin(), acc.end()), when, models[m].seconds);
        if (variants[m].residual && variants[m].depth >= 4) deep_residual = std::max(deep_residual, acc.back());
    }
    if (deep_residual > 0)
        fmt::print("Best residual model of depth ≥ 4 after the last epoch: {:.2f}% exact match (the target, ≥ 99%, is {}).\n",
                   100 * deep_residual, deep_residual >= 0.99 ? "met" : "not met");
}

}  // namespace s2a
