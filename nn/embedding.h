// nn/embedding.h — Embedding: a learned vector for every token id.
//
// Dimensions:
//   V   vocabulary size: the number of distinct ids (rows of the table)
//   D   embedding size: the length of each vector
//   S   the shape of the ids, e.g. (B, T) for a batch of B sentences of T tokens
//
// Looking up row i of W is the same as multiplying the one-hot vector of i by W, but costs D copies
// instead of V · D multiplications. The backward is the same product's gradient: each position's dY row
// is added into row ids[n] of dW, so an id that occurs several times collects several contributions, and
// the rows of ids that did not occur get nothing.
//
// Initialisation: N(0, 1/D), i.e. std 1/√D, so every row has an expected squared length of D · (1/D) = 1
// whatever D is. Its entries are then comparable to those of a Linear's output, and a Transformer that
// scales embeddings by √D (to match the positional encodings' ±1) gets entries of size about 1.
#pragma once

#include "autodiff/tape.h"
#include "nn/module.h"

namespace s2a {

class Embedding : public Module {
  public:
    Embedding(int vocab, int dim, Rng& rng);

    // ids: S (integers in 0 .. V-1) → (S..., D). Throws std::out_of_range for an id outside the table.
    Var forward(const IndexTensor& ids) const;

    int vocab, dim;
    Var W;  // (V, D), parameter "W"
};

}  // namespace s2a
