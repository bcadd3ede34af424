// models/seq2seq.cpp — Encoder, Decoder, PeekyDecoder, Seq2seq.
#include "models/seq2seq.h"

#include <algorithm>

#include "autodiff/ops.h"

namespace s2a {

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

Seq2seq::Seq2seq(int V, int E, int H, bool peeky, Rng& rng, Summary summary)
    : encoder(V, E, H, rng),
      decoder(peeky ? std::make_unique<PeekyDecoder>(V, E, H, rng) : std::make_unique<Decoder>(V, E, H, rng)),
      summary_(summary) {
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
    Var logits = decoder->forward(columns(tgt, 0, L - 1), h);   // logits: (B, T, V)
    return cross_entropy(logits, columns(tgt, 1, L));
}

IndexTensor Seq2seq::generate(const IndexTensor& src, int start_id, int length) {
    NoGrad no_grad;
    const int B = src.shape[0];
    Var h = summarize(encoder.forward(src));
    IndexTensor prev(Shape{B}, start_id), result(Shape{B, length});
    LSTMState state;
    for (int t = 0; t < length; ++t) {
        const Tensor logits = decoder->step(prev, h, state).value();   // logits: (B, V)
        const int V = logits.dim(1);
        for (int b = 0; b < B; ++b) {  // greedy: the most likely character becomes the next input
            const Real* row = logits.ptr() + int64_t(b) * V;
            prev[b] = result[b * length + t] = static_cast<int>(std::max_element(row, row + V) - row);
        }
    }
    return result;
}

}  // namespace s2a
