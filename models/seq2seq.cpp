// models/seq2seq.cpp — what every model shares (the end symbol in the loss, decoding, scheduled sampling),
// then Encoder, Decoder, PeekyDecoder, Seq2seq.
//
// Dimensions: B batch, S source, T decoder steps, V vocabulary, E embedding, H hidden, R rows decoded at once.
#include "models/seq2seq.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>

#include "autodiff/ops.h"

namespace s2a {

// ---------------------------------------------------------------- what every model shares

IndexTensor answer_targets(const IndexTensor& tgt, int end_id) {
    IndexTensor targets = columns(tgt, 1, tgt.shape[1]);  // (B, T)
    if (end_id < 0) return targets;
    const int B = targets.shape[0], T = targets.shape[1];
    for (int b = 0; b < B; ++b) {
        bool ended = false;
        for (int t = 0; t < T; ++t) {
            int& id = targets[int64_t(b) * T + t];
            if (ended) id = -1;  // after the end symbol: decoding forces these, nothing to learn
            ended = ended || id == end_id;
        }
    }
    return targets;
}

Decay parse_decay(const std::string& name) {
    if (name == "linear") return Decay::Linear;
    if (name == "exponential") return Decay::Exponential;
    if (name == "inverse-sigmoid") return Decay::InverseSigmoid;
    throw std::invalid_argument(fmt::format("unknown decay '{}' (known: linear, exponential, inverse-sigmoid)", name));
}

double SamplingSchedule::epsilon(int i) const {
    switch (decay) {
        case Decay::Linear: return std::max(floor, k - c * i);
        case Decay::Exponential: return std::pow(k, i);
        case Decay::InverseSigmoid: return k / (k + std::exp(i / k));
    }
    return 1;
}

IndexTensor Seq2seqModel::generate(const IndexTensor& src, int start_id, int length) {
    NoGrad no_grad;
    EvalMode eval(*this);
    const DecoderSteps decoder = steps(src, 1);
    return greedy_decode({src.shape[0], start_id, length, end_id()}, decoder.step);
}

IndexTensor generate_batches(const std::vector<Seq2seqModel*>& replicas, const IndexTensor& sources, int batch,
                             int start_id, int length) {
    if (replicas.empty() || std::find(replicas.begin(), replicas.end(), nullptr) != replicas.end())
        throw std::invalid_argument("generate_batches: needs at least one model, and no null one");
    // A model keeps its decoding state in itself (the last attention weights, the evaluation mode): given twice,
    // two cores would decode with it at once.
    for (size_t r = 0; r < replicas.size(); ++r)
        if (std::find(replicas.begin(), replicas.begin() + long(r), replicas[r]) != replicas.begin() + long(r))
            throw std::invalid_argument(fmt::format("generate_batches: replica {} is the same model as an earlier one; "
                                                    "each core needs a model of its own (copy_parameters)", r));
    if (sources.shape.ndim != 2 || batch < 1)
        throw std::invalid_argument(fmt::format("generate_batches: needs sources (N, S) and a batch ≥ 1, got {} and {}",
                                                sources.shape.str(), batch));
    const int N = sources.shape[0], S = sources.shape[1], R = static_cast<int>(replicas.size());
    const int batches = (N + batch - 1) / batch;
    IndexTensor answers(Shape{N, length});  // (N, length)
    // One share per replica; parallel_for gives each share a core of its own (as many as there are), and a
    // product made inside a share runs on that core alone. The replicas take the batches one at a time as they
    // finish the last (a counter), so a core the host slows decodes fewer and the other does not wait for it at
    // the end; a batch's answers are the same bits whichever replica decodes it.
    std::atomic<int> next{0};
    parallel_for(R, [&](int r) {
        for (int k; (k = next.fetch_add(1, std::memory_order_relaxed)) < batches;) {
            const int first = k * batch, rows = std::min(batch, N - first);
            IndexTensor src(Shape{rows, S});  // (rows, S): sources first … first + rows - 1
            std::copy_n(sources.data.begin() + int64_t(first) * S, int64_t(rows) * S, src.data.begin());
            const IndexTensor written = replicas[r]->generate(src, start_id, length);  // (rows, length)
            std::copy(written.data.begin(), written.data.end(), answers.data.begin() + int64_t(first) * length);
        }
    });
    return answers;
}

BeamResult Seq2seqModel::nbest(const IndexTensor& src, int start_id, int length, int k, Real alpha) {
    NoGrad no_grad;
    EvalMode eval(*this);
    if (k < 1) throw std::invalid_argument(fmt::format("beam_search: the beam size must be at least 1, got {}", k));
    const DecoderSteps decoder = steps(src, k);  // row b·k + j: hypothesis j of sentence b
    return s2a::beam_search({src.shape[0], start_id, length, end_id()}, k, alpha, decoder.step, decoder.reorder);
}

IndexTensor Seq2seqModel::beam_search(const IndexTensor& src, int start_id, int length, int k, Real alpha) {
    return nbest(src, start_id, length, k, alpha).best;
}

void Seq2seqModel::set_sampling(const ScheduledSampling& s) {
    if (!(s.epsilon >= 0 && s.epsilon <= 1))
        throw std::invalid_argument(fmt::format("scheduled sampling: ε must be in [0, 1], got {}", s.epsilon));
    sampling_ = s;
    sampling_rng_ = Rng(s.seed);
}

std::vector<bool> Seq2seqModel::teacher_choices(int B, int T) {
    if (!sampling_.teacher.empty()) {
        if (static_cast<int64_t>(sampling_.teacher.size()) != int64_t(B) * T)
            throw std::invalid_argument(fmt::format("scheduled sampling: the fixed choices hold {} flags, the batch needs "
                                                    "B·T = {}·{}", sampling_.teacher.size(), B, T));
        return sampling_.teacher;
    }
    std::vector<bool> teacher(int64_t(B) * T);
    for (size_t i = 0; i < teacher.size(); ++i) teacher[i] = sampling_rng_.bernoulli(sampling_.epsilon);
    return teacher;
}

IndexTensor Seq2seqModel::step_inputs(const IndexTensor& tgt_in, int t, const std::vector<bool>& teacher, const Tensor& logits) {
    const int B = tgt_in.shape[0], T = tgt_in.shape[1], V = logits.dim(1);
    IndexTensor prev(Shape{B});  // (B)
    for (int b = 0; b < B; ++b) {
        if (teacher[int64_t(b) * T + t]) {
            prev[b] = tgt_in[int64_t(b) * T + t];
            continue;
        }
        const Real* row = logits.ptr() + int64_t(b) * V;  // the model's scores for step t's input
        const int best = static_cast<int>(std::max_element(row, row + V) - row);
        if (sampling_.argmax) {
            prev[b] = best;
            continue;
        }
        // A draw from softmax(row): the first token whose cumulative probability passes u ~ U[0, 1).
        double total = 0;
        for (int v = 0; v < V; ++v) total += std::exp(double(row[v] - row[best]));
        double u = sampling_rng_.uniform() * total;
        int v = 0;
        for (; v < V - 1; ++v) {
            u -= std::exp(double(row[v] - row[best]));
            if (u < 0) break;
        }
        prev[b] = v;
    }
    return prev;
}

Var Seq2seqModel::sampled_logits(const IndexTensor& tgt_in, const std::function<Var(const IndexTensor&)>& step) {
    const int B = tgt_in.shape[0], T = tgt_in.shape[1];
    const std::vector<bool> teacher = teacher_choices(B, T);
    std::vector<Var> logits;  // T of (B, V)
    for (int t = 0; t < T; ++t) {
        const IndexTensor prev = t == 0 ? columns(tgt_in, 0, 1) : step_inputs(tgt_in, t, teacher, logits.back().value());
        logits.push_back(step(IndexTensor::from(Shape{B}, prev.data)));
    }
    return stack(logits, 1);  // (B, T, V)
}

// ---------------------------------------------------------------- the models of chapters 1 and 2

IndexTensor columns(const IndexTensor& ids, int begin, int end) {
    if (ids.shape.ndim != 2 || begin < 0 || end > ids.shape[1] || begin > end)
        shape_error("columns", "needs a (B, L) id matrix and 0 <= begin <= end <= L", {ids.shape});
    const int B = ids.shape[0], L = ids.shape[1], W = end - begin;
    IndexTensor out(Shape{B, W});
    for (int b = 0; b < B; ++b) std::copy_n(ids.data.begin() + b * L + begin, W, out.data.begin() + b * W);
    return out;
}

// h (B, H) repeated for every one of T steps → (B, T, H). Its backward sums the T gradients.
static Var repeat_steps(const Var& h, int T) { return stack(std::vector<Var>(T, h), 1); }

Encoder::Encoder(int V, int E, int H, Rng& rng) : embed(V, E, rng), lstm(E, H, rng) {
    add_child("embed", embed);
    add_child("lstm", lstm);
}

Var Encoder::forward(const IndexTensor& src) const {
    Var x = embed.forward(src);       // x: (B, S, E)
    return lstm.forward(x).first;     // hs: (B, S, H)
}

Decoder::Decoder(int V, int E, int H, Rng& rng) : Decoder(V, E, H, E, H, rng) {}

Decoder::Decoder(int V, int E, int H, int lstm_in, int out_in, Rng& rng)
    : embed(V, E, rng), lstm(lstm_in, H, rng), out(out_in, V, rng) {
    add_child("embed", embed);
    add_child("lstm", lstm);
    add_child("out", out);
}

// The LSTM starts from the encoder's message: h0 = h_enc, c0 = 0.
Var Decoder::forward(const IndexTensor& tgt_in, const Var& h_enc) const {
    Var x = embed.forward(tgt_in);                    // x: (B, T, E)
    Var hs = lstm.forward(x, {h_enc, Var()}).first;   // hs: (B, T, H)
    return out.forward(hs);                           // logits: (B, T, V)
}

Var Decoder::step(const IndexTensor& prev, const Var& h_enc, LSTMState& state) const {
    if (!state.h.defined()) state = {h_enc, Var()};
    state = lstm.step(embed.forward(prev), state);    // h: (B, H)
    return out.forward(state.h);                      // logits: (B, V)
}

PeekyDecoder::PeekyDecoder(int V, int E, int H, Rng& rng) : Decoder(V, E, H, E + H, 2 * H, rng) {}

Var PeekyDecoder::forward(const IndexTensor& tgt_in, const Var& h_enc) const {
    const int T = tgt_in.shape[1];
    Var peek = repeat_steps(h_enc, T);                                    // peek: (B, T, H)
    Var x = concat({embed.forward(tgt_in), peek}, 2);                     // x: (B, T, E + H)
    Var hs = lstm.forward(x, {h_enc, Var()}).first;                       // hs: (B, T, H)
    return out.forward(concat({hs, peek}, 2));                            // logits: (B, T, V)
}

Var PeekyDecoder::step(const IndexTensor& prev, const Var& h_enc, LSTMState& state) const {
    if (!state.h.defined()) state = {h_enc, Var()};
    state = lstm.step(concat({embed.forward(prev), h_enc}, 1), state);    // h: (B, H)
    return out.forward(concat({state.h, h_enc}, 1));                      // logits: (B, V)
}

Seq2seq::Seq2seq(int V, int E, int H, bool peeky, Rng& rng, Summary summary, int end_id)
    : encoder(V, E, H, rng),
      decoder(peeky ? std::make_unique<PeekyDecoder>(V, E, H, rng) : std::make_unique<Decoder>(V, E, H, rng)),
      summary_(summary),
      end_id_(end_id) {
    add_child("encoder", encoder);
    add_child("decoder", *decoder);
}

// The encoder's only message: its last hidden state hs[:, S-1, :], or the mean over all S steps.
Var Seq2seq::summarize(const Var& hs) const {
    return summary_ == Summary::Last ? select(hs, 1, hs.dim(1) - 1) : mean(hs, 1);  // (B, H)
}

Var Seq2seq::loss(const IndexTensor& src, const IndexTensor& tgt) {
    const int L = tgt.shape[1];
    Var h = summarize(encoder.forward(src));
    const IndexTensor tgt_in = columns(tgt, 0, L - 1);
    Var logits;  // (B, T, V)
    if (sampling_on()) {  // step by step: each step's input may be the model's own previous token
        LSTMState state;
        logits = sampled_logits(tgt_in, [&](const IndexTensor& prev) { return decoder->step(prev, h, state); });
    } else {
        logits = decoder->forward(tgt_in, h);
    }
    return cross_entropy(logits, answer_targets(tgt, end_id_));
}

DecoderSteps Seq2seq::steps(const IndexTensor& src, int copies) {
    // The message h_enc (R, H) and the decoder's LSTM state, shared by the two functions.
    const Var h = take_rows(summarize(encoder.forward(src)), repeated_rows(src.shape[0], copies));
    auto state = std::make_shared<LSTMState>();
    return {[this, h, state](const IndexTensor& prev) { return log_softmax(decoder->step(prev, h, *state)).value(); },
            [state](const std::vector<int>& parents) { *state = {take_rows(state->h, parents), take_rows(state->c, parents)}; }};
}

}  // namespace s2a
