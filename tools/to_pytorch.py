#!/usr/bin/python3
"""tools/to_pytorch.py — take a trained model of chapter 1, 3 or 5 to PyTorch, and show that it answers the same.

A model file (models/model_file.h) is a .npz of the parameters, named by their path in the module tree
("decoder.lstm.layer0.Wx"), beside the arrays that say how to rebuild the model: config.* (sizes, score, wiring,
norms), vocab.codepoints (the characters in id order) and task.* (question width, answer steps, reversed or not,
the start symbol). This script reads one with numpy, builds the same model out of torch.nn layers, copies the
weights in, and answers questions by greedy decoding, printing for each the answer and the log-probability of the
character chosen at every step. seq2attn itself never needs it (nor PyTorch); Debian's python3-torch and
python3-numpy are all it needs, run by Debian's interpreter:

    /usr/bin/python3 tools/to_pytorch.py MODEL.npz [--questions FILE]        # questions one a line (stdin without)
    /usr/bin/python3 tools/to_pytorch.py MODEL.npz --compare [--questions FILE] [--program CMD] [--tolerance X]

--compare also asks the chapter program that trained the model (build/f32/bin/chN, or build/f64 for a model
saved by the double-precision build; --program to name another) the same questions, with --load MODEL --ask
--ask-format tsv, and prints per question whether the answers are the same and the largest |Δ log p| over its
steps; the exit status is 1 if any answer differs or any |Δ log p| exceeds the tolerance.

The tolerance. Both sides compute in the file's precision, but not in the same order: OpenBLAS and PyTorch sum
their products in different blocks, the C++ LSTM uses its own exp (nn/fused_lstm.cpp), PyTorch its vectorised
one. Each such difference is a rounding error, about 6e-8 relative in float32 and 1e-16 in double, and a
log-probability is the end of a chain of a few hundred dependent operations (every decoder step reads the last),
so the two sides drift apart by some hundreds of roundings: the defaults are 1e-4 (float32) and 1e-9 (double),
far below the gaps between the probable characters of a trained model (the answers themselves must be equal).

Dimensions: N questions at once, S question width, T answer steps, V vocabulary, E embedding, H hidden size,
D d_model, h heads, dk = D / h, F feed-forward width.

The weights' layout. seq2attn stores a Linear's W as (in, out) and computes x · W; torch.nn.Linear stores
(out, in): W is transposed on the way in. An LSTM's Wx (D, 4H), Wh (H, 4H) and b (4H) hold the gates in the
order i, f, g, o, which is PyTorch's: they become weight_ih (4H, D) = Wxᵀ, weight_hh (4H, H) = Whᵀ, bias_ih = b,
and bias_hh = 0 (seq2attn has one bias where PyTorch has two that it adds). The Transformer's attention is
written out below rather than taken from torch.nn.MultiheadAttention: seq2attn gives a query whose keys are all
masked zero weights (and a zero context), where PyTorch's layer gives NaN.
"""
import argparse
import math
import os
import shlex
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:
    sys.exit(f"to_pytorch.py: {e}: this tool needs NumPy and PyTorch (Debian: apt-get install python3-numpy "
             "python3-torch, then run it with /usr/bin/python3)")

KINDS = ["seq2seq", "attention", "transformer"]  # config.kind 0, 1, 2
CHAPTER_OF_KIND = ["ch1", "ch3", "ch5"]          # the program that trains (and loads) each kind
SCORES = ["dot", "general", "additive", "concat"]
WIRINGS = ["luong", "bahdanau"]
TOLERANCE = {np.dtype("float32"): 1e-4, np.dtype("float64"): 1e-9}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BridgeError(Exception):
    """A model file or a question this tool cannot use: one line, naming the file and the array."""


# ---------------------------------------------------------------- 1. the model file

class ModelFile:
    """The arrays of a model file: its parameters (taken one by one as the model is built, so that none is
    missed or left over), its configuration, its vocabulary and its task facts."""

    def __init__(self, path):
        self.path = path
        try:
            with np.load(path) as archive:
                self.arrays = {name: archive[name] for name in archive.files}
        except (OSError, ValueError) as e:
            raise BridgeError(f"{path}: not a readable .npz archive: {e}")
        if "config.kind" not in self.arrays:
            raise BridgeError(f"{path}: array 'config.kind' is missing: not a model file (train again to write one)")
        self.dtype = self.arrays["config.kind"].dtype  # float32 from build/f32, float64 from build/f64
        if self.dtype not in TOLERANCE:
            raise BridgeError(f"{path}: array 'config.kind' is {self.dtype}, but a model file holds float32 or float64")
        self.kind = KINDS[self.whole("config.kind", 0, 2)]
        chars = self.take("vocab.codepoints")
        self.vocab = "".join(chr(int(x)) for x in chars)          # id → character
        self.ids = {ch: i for i, ch in enumerate(self.vocab)}     # character → id
        self.source_len = self.whole("task.source_len", 1)        # S
        self.answer_len = self.whole("task.answer_len", 1)        # T
        self.reversed = self.whole("task.reversed", 0, 1) == 1
        self.start_id = self.whole("task.start_id", 0, len(self.vocab) - 1)

    def take(self, name, shape=None):
        """The array `name`, removed from those left to use; its shape checked when given."""
        if name not in self.arrays:
            raise BridgeError(f"{self.path}: array '{name}' is missing")
        a = self.arrays.pop(name)
        if shape is not None and tuple(a.shape) != tuple(shape):
            raise BridgeError(f"{self.path}: array '{name}' has shape {tuple(a.shape)}, but the model needs {tuple(shape)}")
        if not np.all(np.isfinite(a)):
            raise BridgeError(f"{self.path}: array '{name}' holds a NaN or an infinity")
        return a

    def whole(self, name, low, high=2**31 - 1):
        """A (1) field holding a whole number in low..high."""
        x = float(self.take(name, (1,))[0])
        if x != math.floor(x) or not low <= x <= high:
            raise BridgeError(f"{self.path}: array '{name}' holds {x}, but must be a whole number from {low} to {high}")
        return int(x)

    def config(self, name, low=-1, high=2**31 - 1):
        return self.whole("config." + name, low, high)

    def tensor(self, name, shape):
        """A parameter as a torch tensor in the file's precision."""
        return torch.from_numpy(np.ascontiguousarray(self.take(name, shape)))

    def check_all_used(self):
        if self.arrays:
            name = sorted(self.arrays)[0]
            raise BridgeError(f"{self.path}: array '{name}' is neither a parameter nor a field of a {self.kind} model "
                              f"({len(self.arrays)} unexpected array(s) in all)")


# ---------------------------------------------------------------- 2. seq2attn's layers as torch.nn layers

def embedding(f, name, V, E):
    """Embedding "NAME.W" (V, E): the same table."""
    layer = nn.Embedding(V, E)
    with torch.no_grad():
        layer.weight.copy_(f.tensor(name + ".W", (V, E)))
    return layer


def linear(f, name, n_in, n_out):
    """Linear "NAME.W" (in, out) and "NAME.b" (out): y = x · W + b is nn.Linear with weight = Wᵀ (out, in)."""
    layer = nn.Linear(n_in, n_out)
    with torch.no_grad():
        layer.weight.copy_(f.tensor(name + ".W", (n_in, n_out)).T)
        layer.bias.copy_(f.tensor(name + ".b", (n_out,)))
    return layer


def layer_norm(f, name, D):
    """LayerNorm "NAME.gamma", "NAME.beta" (D), eps 1e-5, the variance over D (not D - 1): nn.LayerNorm's own."""
    layer = nn.LayerNorm(D, eps=1e-5)
    with torch.no_grad():
        layer.weight.copy_(f.tensor(name + ".gamma", (D,)))
        layer.bias.copy_(f.tensor(name + ".beta", (D,)))
    return layer


def lstm(f, name, D, H):
    """LSTM "NAME.Wx" (D, 4H), "NAME.Wh" (H, 4H), "NAME.b" (4H), gates i, f, g, o as in nn.LSTM:
    weight_ih = Wxᵀ, weight_hh = Whᵀ, bias_ih = b, bias_hh = 0."""
    layer = nn.LSTM(D, H, batch_first=True)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(f.tensor(name + ".Wx", (D, 4 * H)).T)
        layer.weight_hh_l0.copy_(f.tensor(name + ".Wh", (H, 4 * H)).T)
        layer.bias_ih_l0.copy_(f.tensor(name + ".b", (4 * H,)))
        layer.bias_hh_l0.zero_()
    return layer


class StackedLSTM(nn.Module):
    """nn/stacked_lstm.h: LSTM layers one on another, out_l = LSTM_l(in_l) + in_l from the second layer up when
    residual (nn.LSTM(num_layers=L) has no residual connections, so the layers are kept apart)."""

    def __init__(self, f, name, D, H, layers, residual):
        super().__init__()
        self.layers = nn.ModuleList(lstm(f, f"{name}.layer{l}", D if l == 0 else H, H) for l in range(layers))
        self.residual = residual

    def forward(self, x, states=None):
        """x (N, T, D), one (h, c) per layer (each (N, H); None: zeros) → the stack's output (N, T, H) and every
        layer's final (h, c)."""
        final = []
        for l, layer in enumerate(self.layers):
            init = None if states is None else (states[l][0][None], states[l][1][None])  # (1, N, H) each
            hs, (h, c) = layer(x, init)                                                  # hs: (N, T, H)
            x = hs + x if self.residual and l > 0 else hs
            final.append((h[0], c[0]))
        return x, final


def masked_softmax(e, keep):
    """softmax over the last axis of the positions where keep is True; a row with none kept is all zeros (as in
    autodiff/kernels.h), where a plain softmax of -inf would give NaN."""
    return torch.softmax(e.masked_fill(~keep, -math.inf), dim=-1).nan_to_num(0.0)


def padding_runs(src, pad_id, leading, trailing):
    """True at the source positions to attend (N, S): all but the run of pad_id at the start (leading) and/or at
    the end (trailing) of each row. A pad inside the text (the space in "sep 27") stays visible."""
    is_pad = (src == pad_id).int()
    hidden = torch.zeros_like(is_pad, dtype=torch.bool)
    if leading:
        hidden |= is_pad.cumprod(1).bool()
    if trailing:
        hidden |= is_pad.flip(1).cumprod(1).flip(1).bool()
    return ~hidden


# ---------------------------------------------------------------- 3. the three models
# Each model's decoder(src) returns a step function, as Seq2seqModel::steps does in C++: it is given the
# characters just written, prev (N), and returns the log-probabilities of the next one (N, V), keeping the
# decoder's state between calls.

class Seq2seq(nn.Module):
    """Chapter 1 (models/seq2seq.h): the encoder's last hidden state (or the mean of all of them) starts the
    decoder's LSTM (c0 = 0); the peeky decoder also sees it at every step, beside its input and its output."""

    def __init__(self, f):
        super().__init__()
        V, E, H = f.config("V", 1), f.config("E", 1), f.config("H", 1)
        self.peeky, self.mean = f.config("peeky", 0, 1) == 1, f.config("summary", 0, 1) == 1
        self.end_id = f.config("end_id", -1, V - 1)
        self.enc_embed, self.enc_lstm = embedding(f, "encoder.embed", V, E), lstm(f, "encoder.lstm", E, H)
        self.dec_embed = embedding(f, "decoder.embed", V, E)
        self.dec_lstm = lstm(f, "decoder.lstm", E + H if self.peeky else E, H)
        self.out = linear(f, "decoder.out", 2 * H if self.peeky else H, V)

    def decoder(self, src):
        hs, _ = self.enc_lstm(self.enc_embed(src))        # hs: (N, S, H)
        h_enc = hs.mean(1) if self.mean else hs[:, -1]    # h_enc: (N, H), the decoder's only message
        state = (h_enc[None], torch.zeros_like(h_enc)[None])  # (h0, c0): (1, N, H) each

        def step(prev):
            nonlocal state
            x = self.dec_embed(prev)                                           # x: (N, E)
            if self.peeky:
                x = torch.cat([x, h_enc], 1)                                   # [e; h_enc]: (N, E + H)
            out, state = self.dec_lstm(x[:, None], state)                      # out: (N, 1, H)
            h = torch.cat([out[:, 0], h_enc], 1) if self.peeky else out[:, 0]  # (N, 2H) or (N, H)
            return torch.log_softmax(self.out(h), -1)                          # (N, V)
        return step


class AttentionScore(nn.Module):
    """nn/attention.h's AttentionWeight: the weights a (N, S) of one query q (N, H) over the source hs (N, S, H).
    The source's side of the score, keys(hs), is computed once per question."""

    def __init__(self, f, score, H):
        super().__init__()
        self.score = score
        p = "decoder.attention.weight."
        if score == "general":
            self.W = nn.Parameter(f.tensor(p + "W", (H, H)))
        elif score == "additive":
            self.W1, self.W2, self.v = (nn.Parameter(f.tensor(p + n, s)) for n, s in [("W1", (H, H)), ("W2", (H, H)), ("v", (H,))])
        elif score == "concat":
            self.p, self.q, self.r = (nn.Parameter(f.tensor(p + n, s)) for n, s in [("p", (H,)), ("q", (H,)), ("r", ())])

    def keys(self, hs):
        """hs (N, S, H) → keys (N, S, K): hs (dot), hs Wᵀ (general), hs W₂ (additive), hs · q (concat, K = 1)."""
        return {"dot": lambda: hs, "general": lambda: hs @ self.W.T, "additive": lambda: hs @ self.W2,
                "concat": lambda: hs @ self.q[:, None]}[self.score]()

    def forward(self, query, keys, keep):
        """query (N, H), keys (N, S, K), keep (N, S) → a (N, S) = masked softmax of the scores e (N, S)."""
        if self.score in ("dot", "general"):
            e = (keys @ query[:, :, None])[:, :, 0]                              # e_s = q · k_s
        elif self.score == "additive":
            e = torch.tanh((query @ self.W1)[:, None] + keys) @ self.v          # e_s = v · tanh(q W₁ + hs_s W₂)
        else:
            e = torch.sigmoid((query @ self.p)[:, None] + keys[:, :, 0] + self.r)  # e_s = σ(q · p + hs_s · q + r)
        return masked_softmax(e, keep)


class AttentionSeq2seq(nn.Module):
    """Chapters 3 and 4 (models/attention_seq2seq.h): the decoder attends over every encoder state hs. Luong
    wiring: s_t = LSTM(s_{t-1}, y_{t-1}), c_t from s_t, logits from [c_t; s_t]. Bahdanau: c_t from s_{t-1},
    s_t = LSTM(s_{t-1}, [y_{t-1}; c_t]), logits from [s_t; c_t]. Each decoder layer starts from its encoder
    layer's final state, and s_0 is the encoder stack's output at its last step."""

    def __init__(self, f):
        super().__init__()
        V, E, H = f.config("V", 1), f.config("E", 1), f.config("H", 1)
        self.score, self.wiring = SCORES[f.config("score", 0, 3)], WIRINGS[f.config("wiring", 0, 1)]
        self.bidirectional = f.config("bidirectional", 0, 1) == 1
        layers, residual = f.config("layers", 1), f.config("residual", 0, 1) == 1
        f.take("config.dropout", (1,))  # dropout acts in training only
        self.pad_id, self.end_id = f.config("pad_id", -1, V - 1), f.config("end_id", -1, V - 1)
        self.reversed_source = f.config("reversed_source", 0, 1) == 1
        He = H // 2 if self.bidirectional else H  # each direction's units
        self.enc_embed = embedding(f, "encoder.embed", V, E)
        self.enc_lstm = StackedLSTM(f, "encoder.lstm", E, He, layers, residual)
        self.enc_lstm_backward = StackedLSTM(f, "encoder.lstm_backward", E, He, layers, residual) if self.bidirectional else None
        self.dec_embed = embedding(f, "decoder.embed", V, E)
        self.dec_lstm = StackedLSTM(f, "decoder.lstm", E + H if self.wiring == "bahdanau" else E, H, layers, residual)
        self.attention = AttentionScore(f, self.score, H)
        self.out = linear(f, "decoder.out", 2 * H, V)

    def encode(self, src):
        """src (N, S) → hs (N, S, H), every layer's final (h, c), and the stack's output at the last step (N, H)."""
        hs, states = self.enc_lstm(self.enc_embed(src))                       # hs: (N, S, H or H/2)
        if not self.bidirectional:
            return hs, states, hs[:, -1]
        hs_back, states_back = self.enc_lstm_backward(self.enc_embed(src.flip(1)))  # reads right to left
        states = [(torch.cat([h, hb], 1), torch.cat([c, cb], 1)) for (h, c), (hb, cb) in zip(states, states_back)]
        out = torch.cat([hs[:, -1], hs_back[:, -1]], 1)                       # each direction's last step: (N, H)
        return torch.cat([hs, hs_back.flip(1)], 2), states, out               # hs: (N, S, H), [forward; backward]

    def decoder(self, src):
        hs, states, s = self.encode(src)              # s: the stack's output s_{t-1} (N, H)
        keys = self.attention.keys(hs)                # (N, S, K)
        keep = torch.ones(src.shape, dtype=torch.bool) if self.pad_id < 0 else \
            padding_runs(src, self.pad_id, self.reversed_source, not self.reversed_source)  # (N, S)

        def context(query):                           # query (N, H) → c (N, H) = Σ_s a_s hs_s
            return (self.attention(query, keys, keep)[:, None] @ hs)[:, 0]

        def step(prev):
            nonlocal states, s
            x = self.dec_embed(prev)                                           # x: (N, E)
            if self.wiring == "luong":
                out, states = self.dec_lstm(x[:, None], states)
                s = out[:, 0]                                                  # s_t: (N, H)
                features = torch.cat([context(s), s], 1)                       # [c_t; s_t]: (N, 2H)
            else:
                c = context(s)                                                 # c_t from s_{t-1}: (N, H)
                out, states = self.dec_lstm(torch.cat([x, c], 1)[:, None], states)
                s = out[:, 0]
                features = torch.cat([s, c], 1)                                # [s_t; c_t]: (N, 2H)
            return torch.log_softmax(self.out(features), -1)                   # (N, V)
        return step


class MultiHeadAttention(nn.Module):
    """nn/transformer.h: Q = x_q Wq, K = x_kv Wk, V = x_kv Wv (each + its bias), split into h heads of dk columns,
    softmax(Q Kᵀ / √dk) V per head (masked), the heads side by side again, · Wo + bo."""

    def __init__(self, f, name, D, heads):
        super().__init__()
        self.heads, self.dk = heads, D // heads
        self.Wq, self.Wk, self.Wv, self.Wo = (linear(f, f"{name}.{w}", D, D) for w in ("Wq", "Wk", "Wv", "Wo"))

    def forward(self, x_q, x_kv, keep):
        """x_q (N, Tq, D), x_kv (N, Tk, D), keep broadcastable to (N, h, Tq, Tk) → (N, Tq, D)."""
        N, Tq, D = x_q.shape
        split = lambda x: x.reshape(N, -1, self.heads, self.dk).transpose(1, 2)  # (N, T, D) → (N, h, T, dk)
        q, k, v = split(self.Wq(x_q)), split(self.Wk(x_kv)), split(self.Wv(x_kv))
        scores = (q @ k.transpose(2, 3)) * (1 / math.sqrt(self.dk))                # (N, h, Tq, Tk)
        o = masked_softmax(scores, keep) @ v                                      # (N, h, Tq, dk)
        return self.Wo(o.transpose(1, 2).reshape(N, Tq, D))                       # (N, Tq, D)


class AddNorm(nn.Module):
    """Post-norm (the paper): x ← LN(x + sublayer(x)). Pre-norm: x ← x + sublayer(LN(x))."""

    def __init__(self, f, name, D, pre_norm):
        super().__init__()
        self.norm, self.pre_norm = layer_norm(f, name + ".norm", D), pre_norm

    def input(self, x):
        return self.norm(x) if self.pre_norm else x

    def output(self, x, sublayer_out):
        return x + sublayer_out if self.pre_norm else self.norm(x + sublayer_out)


class FeedForward(nn.Module):
    """max(0, x W1 + b1) W2 + b2 at every position."""

    def __init__(self, f, name, D, F):
        super().__init__()
        self.linear1, self.linear2 = linear(f, name + ".linear1", D, F), linear(f, name + ".linear2", F, D)

    def forward(self, x):
        return self.linear2(torch.relu(self.linear1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, f, name, D, heads, F, pre_norm):
        super().__init__()
        self.self_attn = MultiHeadAttention(f, name + ".self_attn", D, heads)
        self.add_norm1 = AddNorm(f, name + ".add_norm1", D, pre_norm)
        self.ffn = FeedForward(f, name + ".ffn", D, F)
        self.add_norm2 = AddNorm(f, name + ".add_norm2", D, pre_norm)

    def forward(self, x, keep):                                   # x (N, S, D) → (N, S, D)
        h = self.add_norm1.input(x)
        x = self.add_norm1.output(x, self.self_attn(h, h, keep))
        return self.add_norm2.output(x, self.ffn(self.add_norm2.input(x)))


class DecoderLayer(nn.Module):
    def __init__(self, f, name, D, heads, F, pre_norm):
        super().__init__()
        self.self_attn = MultiHeadAttention(f, name + ".self_attn", D, heads)
        self.add_norm1 = AddNorm(f, name + ".add_norm1", D, pre_norm)
        self.cross_attn = MultiHeadAttention(f, name + ".cross_attn", D, heads)
        self.add_norm2 = AddNorm(f, name + ".add_norm2", D, pre_norm)
        self.ffn = FeedForward(f, name + ".ffn", D, F)
        self.add_norm3 = AddNorm(f, name + ".add_norm3", D, pre_norm)

    def forward(self, y, memory, causal, keep):                   # y (N, T, D), memory (N, S, D) → (N, T, D)
        h1 = self.add_norm1.input(y)
        y = self.add_norm1.output(y, self.self_attn(h1, h1, causal))        # the answer so far
        y = self.add_norm2.output(y, self.cross_attn(self.add_norm2.input(y), memory, keep))  # the question
        return self.add_norm3.output(y, self.ffn(self.add_norm3.input(y)))


class Transformer(nn.Module):
    """Chapter 5 (models/transformer_seq2seq.h): memory = Encoder(√D · E[src] + PE), y = Decoder(√D · E[prev] + PE,
    memory), logits = y Eᵀ (tied) or y W + b. The source's padding runs (at either end) are masked; the decoder
    self-attends causally. Decoding re-reads the whole prefix at every step (seq2attn keeps a cache of keys and
    values instead; under the causal mask the two are the same computation)."""

    def __init__(self, f):
        super().__init__()
        V, D = f.config("V", 1), f.config("D", 1)
        heads, F = f.config("heads", 1, D), f.config("F", 1)
        n_enc, n_dec = f.config("encoder_layers", 1), f.config("decoder_layers", 1)
        f.take("config.dropout", (1,))
        f.take("config.label_smoothing", (1,))  # training only, both
        pre_norm, learned = f.config("pre_norm", 0, 1) == 1, f.config("learned_positions", 0, 1) == 1
        shared, tied = f.config("shared_embeddings", 0, 1) == 1, f.config("tied_output", 0, 1) == 1
        max_len = f.config("max_len", 1)
        self.pad_id, self.end_id, self.D = f.config("pad_id", -1, V - 1), f.config("end_id", -1, V - 1), D
        self.embed = embedding(f, "embed", V, D)
        self.target_embed = self.embed if shared else embedding(f, "target_embed", V, D)
        if learned:
            self.positions = nn.Parameter(f.tensor("positions.P", (max_len, D)))
        else:  # PE(pos, 2i) = sin(pos / 10000^(2i/D)), PE(pos, 2i+1) = cos(…), in double, then the file's precision
            angle = np.arange(max_len)[:, None] / np.power(10000.0, 2.0 * (np.arange(D) // 2) / D)[None]
            pe = np.where(np.arange(D) % 2 == 0, np.sin(angle), np.cos(angle))
            self.register_buffer("positions", torch.from_numpy(pe.astype(f.dtype)))  # (max_len, D)
        self.encoder = nn.ModuleList(EncoderLayer(f, f"encoder.layer{i}", D, heads, F, pre_norm) for i in range(n_enc))
        self.decoder_layers = nn.ModuleList(DecoderLayer(f, f"decoder.layer{i}", D, heads, F, pre_norm) for i in range(n_dec))
        # Pre-norm layers leave their sum un-normalised: each stack ends with one more LayerNorm.
        self.encoder_norm = layer_norm(f, "encoder.norm", D) if pre_norm else nn.Identity()
        self.decoder_norm = layer_norm(f, "decoder.norm", D) if pre_norm else nn.Identity()
        self.out = None if tied else linear(f, "out", D, V)

    def embed_tokens(self, table, ids):                       # ids (N, L) → √D · E[ids] + PE[:L] (N, L, D)
        return table(ids) * math.sqrt(self.D) + self.positions[: ids.shape[1]]

    def decoder(self, src):
        keep = torch.ones(src.shape, dtype=torch.bool) if self.pad_id < 0 else padding_runs(src, self.pad_id, True, True)
        keep = keep[:, None, None, :]                         # (N, 1, 1, S): over heads and queries
        memory = self.embed_tokens(self.embed, src)           # (N, S, D)
        for layer in self.encoder:
            memory = layer(memory, keep)
        memory = self.encoder_norm(memory)
        written = src[:, :0]                                  # (N, 0): the decoder's inputs so far

        def step(prev):
            nonlocal written
            written = torch.cat([written, prev[:, None]], 1)  # (N, t + 1)
            t = written.shape[1]
            causal = torch.ones(t, t, dtype=torch.bool).tril()  # (t, t): step i sees steps ≤ i
            y = self.embed_tokens(self.target_embed, written)
            for layer in self.decoder_layers:
                y = layer(y, memory, causal, keep)
            y = self.decoder_norm(y)[:, -1]                   # the newest position: (N, D)
            logits = self.out(y) if self.out is not None else y @ self.target_embed.weight.T  # (N, V)
            return torch.log_softmax(logits, -1)
        return step


def build_model(f):
    torch.set_default_dtype(torch.float64 if f.dtype == np.float64 else torch.float32)
    model = {"seq2seq": Seq2seq, "attention": AttentionSeq2seq, "transformer": Transformer}[f.kind](f)
    f.check_all_used()
    return model.eval()


# ---------------------------------------------------------------- 4. questions and greedy answers

def encode_question(f, question):
    """The question as the model reads it, prepared as experiments/ask.cpp prepares it: checked, padded with ' '
    to S characters, reversed if the model was trained so → ids (S). Raises BridgeError saying why it cannot be."""
    if not question:
        raise BridgeError("the question is empty")
    if len(question) > f.source_len:
        raise BridgeError(f"the question has {len(question)} characters, but this model reads at most {f.source_len}")
    for i, ch in enumerate(question):
        if ch == "_":
            raise BridgeError(f"character {i + 1} is '_', the start symbol of answers, never in a question")
        if ch not in f.ids:
            raise BridgeError(f"character {i + 1}, {ch!r}, is not in the model's vocabulary")
    chars = question.ljust(f.source_len)
    return [f.ids[ch] for ch in (chars[::-1] if f.reversed else chars)]


@torch.no_grad()
def greedy_answers(f, model, sources):
    """Greedy decoding (models/decoding.h) of sources (N, S): at each step the most probable character (the first
    of equals), and once a row has written the end symbol, the end symbol again. → per row: the answer's text and
    the log-probabilities of its steps up to and including the end symbol."""
    N = sources.shape[0]
    step = model.decoder(sources)
    prev = torch.full((N,), f.start_id, dtype=torch.long)
    ended = torch.zeros(N, dtype=torch.bool)
    tokens, log_probs = [], []                                 # T of (N) each
    for _ in range(f.answer_len):
        lp = step(prev)                                        # (N, V)
        token = lp.argmax(1)
        if model.end_id >= 0:
            token = torch.where(ended, torch.full_like(token, model.end_id), token)
        tokens.append(token)
        log_probs.append(lp.gather(1, token[:, None])[:, 0])
        ended |= token == model.end_id
        prev = token
    tokens, log_probs = torch.stack(tokens, 1).tolist(), torch.stack(log_probs, 1).tolist()  # (N, T) each
    answers = []
    for row, lps in zip(tokens, log_probs):
        steps = row.index(model.end_id) + 1 if model.end_id in row else len(row)
        answers.append(("".join(f.vocab[i] for i in row).rstrip(" "), lps[:steps]))
    return answers


def answer_all(f, model, questions):
    """Every question's (answer, log-probabilities), or (None, why) for one the model cannot read."""
    results, rows, sources = [None] * len(questions), [], []
    for i, q in enumerate(questions):
        try:
            sources.append(encode_question(f, q))
            rows.append(i)
        except BridgeError as e:
            results[i] = (None, str(e))
    if sources:
        for i, a in zip(rows, greedy_answers(f, model, torch.tensor(sources, dtype=torch.long))):
            results[i] = a
    return results


# ---------------------------------------------------------------- 5. the C++ side, and the comparison

def cpp_answers(f, args, questions):
    """The chapter program's answers to the same questions: --load FILE --ask --ask-format tsv (experiments/ask.h).
    --quick keeps the test set it scores the model on before the questions small."""
    build = "f64" if f.dtype == np.float64 else "f32"
    program = shlex.split(args.program) if args.program else [os.path.join(REPO, "build", build, "bin", CHAPTER_OF_KIND[KINDS.index(f.kind)])]
    with tempfile.TemporaryDirectory() as out:
        command = program + ["--load", f.path, "--ask", "--ask-format", "tsv", "--quick", "--out", out]
        try:
            run = subprocess.run(command, input="".join(q + "\n" for q in questions), capture_output=True, text=True)
        except OSError as e:
            raise BridgeError(f"cannot run {program[0]}: {e} (build it first, e.g. make {CHAPTER_OF_KIND[KINDS.index(f.kind)]}, or name one with --program)")
    if run.returncode != 0:
        raise BridgeError(f"{shlex.join(command)} exited with status {run.returncode}: {(run.stderr or run.stdout).strip()[-500:]}")
    results = []
    for line in run.stdout.splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "answer":
            _, answer, lps = rest.rsplit("\t", 2)
            results.append((answer, [float(x) for x in lps.split()]))
        elif kind == "refused":
            results.append((None, rest.rsplit("\t", 1)[1]))
    if len(results) != len(questions):
        raise BridgeError(f"{program[0]} answered {len(results)} of {len(questions)} questions:\n{run.stdout[-1000:]}")
    return results


def compare(f, ours, theirs, questions, tolerance):
    """Prints one line per question and the totals → True if every answer is the same and every |Δ log p| is
    within the tolerance."""
    same_count, worst = 0, 0.0
    print(f"{'':2} {'question':<{f.source_len + 2}} {'PyTorch':<{f.answer_len + 1}} {'seq2attn':<{f.answer_len + 1}} max |Δ log p|")
    for q, (a, lp), (b, lq) in zip(questions, ours, theirs):
        if a is None or b is None:  # refused: the same question must be refused by both
            same, delta = a is None and b is None, 0.0
            a, b = ("(refused)" if x is None else x for x in (a, b))
        else:
            same = a == b and len(lp) == len(lq)
            delta = max((abs(x - y) for x, y in zip(lp, lq)), default=0.0)
        ok = same and delta <= tolerance
        same_count += same
        worst = max(worst, delta)
        print(f"{'  ' if ok else '✗ '} {q!r:<{f.source_len + 2}} {a:<{f.answer_len + 1}} {b:<{f.answer_len + 1}} {delta:.2e}")
    n = len(questions)
    print(f"\n{same_count} of {n} answers the same; max |Δ log p| {worst:.3g} (tolerance {tolerance:g}, {f.dtype} on both sides)")
    return same_count == n and worst <= tolerance


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a model file written by chapter 1, 3 or 5 (OUT/chN_NAME.npz)")
    parser.add_argument("--questions", metavar="FILE", help="questions, one a line (default: standard input)")
    parser.add_argument("--compare", action="store_true", help="also ask the chapter program and compare the answers")
    parser.add_argument("--program", metavar="CMD", help="with --compare: the program to ask (default build/f32/bin/chN, "
                        "or build/f64 for a double-precision model file)")
    parser.add_argument("--tolerance", type=float, help="with --compare: the largest |Δ log p| allowed "
                        "(default 1e-4 for float32, 1e-9 for double)")
    args = parser.parse_args()
    try:
        f = ModelFile(args.model)
        model = build_model(f)
        try:
            with open(args.questions, encoding="utf-8") if args.questions else sys.stdin as stream:
                questions = [line.rstrip("\n").removesuffix("\r") for line in stream]
        except (OSError, UnicodeDecodeError) as e:
            raise BridgeError(f"{args.questions or 'standard input'}: cannot read the questions: {e}")
        parameters = sum(p.numel() for p in model.parameters())
        print(f"{args.model}: {f.kind} model, {parameters} parameters, in {torch.get_default_dtype()} "
              f"(PyTorch {torch.__version__}); {len(questions)} questions")
        ours = answer_all(f, model, questions)
        if not args.compare:
            for q, (a, lp) in zip(questions, ours):
                print(f"> {q}\n  ✗ {lp}" if a is None else
                      f"> {q}\n  answer: {a}\n  log p per step: {' '.join(f'{x:.6f}' for x in lp)} (sum {sum(lp):.6f})")
            return 0
        tolerance = args.tolerance if args.tolerance is not None else TOLERANCE[f.dtype]
        return 0 if compare(f, ours, cpp_answers(f, args, questions), questions, tolerance) else 1
    except BridgeError as e:
        print(f"to_pytorch.py: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
