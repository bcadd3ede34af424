#!/usr/bin/env python3
"""bench/pytorch_reference.py — the same training steps as `make bench`, in PyTorch, for a side-by-side speed
comparison. A reference only: seq2attn never imports or needs it. Debian: apt-get install python3-torch.

    /usr/bin/python3 bench/pytorch_reference.py [--threads N] [--only NAME]

One step = forward + backward + clip to norm 5 + Adam, on random ids, exactly as bench/bench.cpp times its
models: seq2seq-date and attention-date (vocabulary 59, batch 128, source 29, target 11, embedding 16,
hidden 256); transformer-date (the same data sizes; d_model 256, 4 heads, 2+2 post-norm layers, FFN 1024, no
dropout, one embedding table shared by source, target and output, label smoothing 0.1) and transformer-long
(vocabulary 64, batch 64, source and target 64, 3+3 layers).

Besides the step time it prints, like bench/bench.cpp: the FLOPs of a step (counted by PyTorch's
FlopCounterMode, torch >= 2.1; "n/a" before), the MFU (FLOPs per second over --peak, the machine's sgemm peak
that `make bench` prints; without --peak, torch.mm's own on 1024³), the process's peak resident memory
(resource.getrusage; run one benchmark with --only to see its own), and for attention-date and
transformer-date the time to decode 5,000 random sources greedily in batches of 128, 10 tokens each. The
Transformer decodes as PyTorch's nn.Transformer allows: the decoder re-reads the whole prefix at every step
(it keeps no cache of keys and values).
"""
import argparse
import resource
import time

import torch

V, E, H, B, S, T = 59, 16, 256, 128, 29, 11


class Seq2seq(torch.nn.Module):
    """Chapter 1's model (and, with attention=True, chapter 3's Luong-wiring dot-score model)."""

    def __init__(self, attention):
        super().__init__()
        self.attention = attention
        self.enc_embed, self.enc_lstm = torch.nn.Embedding(V, E), torch.nn.LSTM(E, H, batch_first=True)
        self.dec_embed, self.dec_lstm = torch.nn.Embedding(V, E), torch.nn.LSTM(E, H, batch_first=True)
        self.out = torch.nn.Linear(2 * H if attention else H, V)

    def forward(self, src, tgt):
        hs, (h, c) = self.enc_lstm(self.enc_embed(src))
        state = (h, c) if self.attention else (h, torch.zeros_like(h))
        ys, _ = self.dec_lstm(self.dec_embed(tgt[:, :-1]), state)
        if self.attention:
            weights = torch.softmax(ys @ hs.transpose(1, 2), dim=-1)  # (B, T, S)
            ys = torch.cat([weights @ hs, ys], dim=-1)
        logits = self.out(ys)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, V), tgt[:, 1:].reshape(-1))

    @torch.no_grad()
    def greedy(self, src, length):
        """The most probable next token, `length` times, from start id 0: (B, length)."""
        hs, (h, c) = self.enc_lstm(self.enc_embed(src))
        state = (h, c) if self.attention else (h, torch.zeros_like(h))
        prev, written = torch.zeros(src.shape[0], 1, dtype=torch.long), []
        for _ in range(length):
            ys, state = self.dec_lstm(self.dec_embed(prev), state)  # (B, 1, H)
            if self.attention:
                weights = torch.softmax(ys @ hs.transpose(1, 2), dim=-1)  # (B, 1, S)
                ys = torch.cat([weights @ hs, ys], dim=-1)
            prev = self.out(ys).argmax(-1)  # (B, 1)
            written.append(prev)
        return torch.cat(written, dim=1)


class Transformer(torch.nn.Module):
    """Chapter 5's model as bench/bench.cpp configures it: sinusoidal positions, scaled shared embeddings."""

    def __init__(self, vocab, layers, d=256):
        super().__init__()
        self.vocab, self.d = vocab, d
        self.embed = torch.nn.Embedding(vocab, d)
        self.core = torch.nn.Transformer(d, 4, layers, layers, 1024, dropout=0.0, batch_first=True)
        position = torch.arange(512).unsqueeze(1)
        angle = position / torch.pow(10000, torch.arange(0, d, 2) / d)
        self.register_buffer("pe", torch.stack([angle.sin(), angle.cos()], dim=-1).reshape(512, d))

    def forward(self, src, tgt):
        x, y = tgt[:, :-1], tgt[:, 1:]
        enc_in = self.embed(src) * self.d ** 0.5 + self.pe[: src.shape[1]]
        dec_in = self.embed(x) * self.d ** 0.5 + self.pe[: x.shape[1]]
        causal = self.core.generate_square_subsequent_mask(x.shape[1])
        out = self.core(enc_in, dec_in, tgt_mask=causal)
        logits = out @ self.embed.weight.t()
        return torch.nn.functional.cross_entropy(logits.reshape(-1, self.vocab), y.reshape(-1), label_smoothing=0.1)

    @torch.no_grad()
    def greedy(self, src, length):
        """The most probable next token, `length` times, from start id 0: (B, length)."""
        memory = self.core.encoder(self.embed(src) * self.d ** 0.5 + self.pe[: src.shape[1]])
        ys = torch.zeros(src.shape[0], 1, dtype=torch.long)
        for _ in range(length):
            dec_in = self.embed(ys) * self.d ** 0.5 + self.pe[: ys.shape[1]]
            causal = self.core.generate_square_subsequent_mask(ys.shape[1])
            out = self.core.decoder(dec_in, memory, tgt_mask=causal)  # (B, t, d)
            ys = torch.cat([ys, (out[:, -1] @ self.embed.weight.t()).argmax(-1, keepdim=True)], dim=1)
        return ys[:, 1:]


def sgemm_peak_gflops():
    """torch.mm on (1024, 1024) float32 matrices, with torch's current threads: the best of 3 after a warm-up."""
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = float("inf")
    for run in range(4):
        start = time.perf_counter()
        torch.mm(a, b)
        if run > 0:
            best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best * 1e-9


def count_flops(step):
    """FLOPs of one call of step(), by PyTorch's own counter (torch >= 2.1), or None."""
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        return None
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def bench(name, model, peak, seconds=3.0, vocab=V, batch=B, source=S, target=T, decode=0):
    torch.manual_seed(0)
    src, tgt = torch.randint(0, vocab, (batch, source)), torch.randint(0, vocab, (batch, target))
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def step():
        loss = model(src, tgt)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
        opt.step()

    step()
    steps, start = 0, time.time()
    while time.time() - start < seconds:
        step()
        steps += 1
    per_step = (time.time() - start) / steps
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    flops = count_flops(step)
    figures = "n/a GFLOP/step  MFU n/a" if flops is None else \
        f"{flops * 1e-9:.2f} GFLOP/step  MFU {100 * flops / per_step * 1e-9 / peak:.1f}%"
    print(f"{name}:\n  {per_step * 1e3:8.2f} ms/step  {batch * (source + target) / per_step:10.0f} training tokens/s  "
          f"{figures}  peak RSS {rss_mb:.0f} MB")
    if decode:
        model.eval()
        sources = torch.randint(0, vocab, (decode, source))
        decode_all = lambda: [model.greedy(sources[i:i + batch], target - 1) for i in range(0, decode, batch)]
        decode_all()  # warm-up, as bench/bench.cpp does
        start = time.perf_counter()
        decode_all()
        print(f"  greedy decoding of {decode} sources ({target - 1} tokens each, batches of {batch}): "
              f"{(time.perf_counter() - start) * 1e3:.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 was fastest on 2 cores)")
    parser.add_argument("--only", default="", help="seq2seq-date, attention-date, transformer-date or transformer-long "
                        "(default: all)")
    parser.add_argument("--peak", type=float, default=0, help="the machine's sgemm peak in GFLOP/s for the MFU (as "
                        "`make bench` prints it; default: measure torch.mm's)")
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent timing each benchmark's steps")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = args.peak if args.peak > 0 else sgemm_peak_gflops()
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s); sgemm peak {peak:.1f} GFLOP/s "
          f"({'given' if args.peak > 0 else 'torch.mm, 1024³, best of 3'})")
    if args.only in ("", "seq2seq-date"):
        bench("seq2seq-date", Seq2seq(attention=False), peak, args.seconds)
    if args.only in ("", "attention-date"):
        bench("attention-date", Seq2seq(attention=True), peak, args.seconds, decode=5000)
    if args.only in ("", "transformer-date"):
        bench("transformer-date", Transformer(59, 2), peak, args.seconds, decode=5000)
    if args.only in ("", "transformer-long"):
        bench("transformer-long", Transformer(64, 3), peak, args.seconds, vocab=64, batch=64, source=64, target=64)


if __name__ == "__main__":
    main()
