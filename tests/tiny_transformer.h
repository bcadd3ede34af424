// tests/tiny_transformer.h — the tiny Transformer the model tests build: small enough for gradient checks and
// decoding by hand, every part of the real one present.
#pragma once

#include "models/transformer_seq2seq.h"

namespace s2a {

// V ids, D 8 split into 2 heads of 4, FFN width F 12, positions up to 16, no dropout (every call of the loss
// computes the same function); pad_id masked in the source, end_id ending answers (-1: none). The layers and
// the rest keep TransformerConfig's defaults: 2 + 2 post-norm layers, sinusoids, one shared and tied table.
inline TransformerConfig tiny_transformer(int V, int pad_id, int end_id) {
    TransformerConfig c;
    c.V = V, c.D = 8, c.heads = 2, c.F = 12, c.max_len = 16;
    c.dropout = 0;
    c.pad_id = pad_id, c.end_id = end_id;
    return c;
}

}  // namespace s2a
