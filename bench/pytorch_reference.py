#!/usr/bin/env python3
"""bench/pytorch_reference.py — the same training steps as `make bench`, in PyTorch, for a side-by-side speed
comparison. A reference only: seq2attn never imports or needs it. Debian: apt-get install python3-torch.

    /usr/bin/python3 bench/pytorch_reference.py [--threads N] [--only seq2seq-date|attention-date]

One step = forward + backward + clip to norm 5 + Adam, on random ids of the date task's sizes (vocabulary 59,
batch 128, source 29, target 11, embedding 16, hidden 256), exactly as bench/bench.cpp times its models.
"""
import argparse
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


def bench(name, model, seconds=3.0):
    torch.manual_seed(0)
    src, tgt = torch.randint(0, V, (B, S)), torch.randint(0, V, (B, T))
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
    print(f"{name}: {per_step * 1e3:8.2f} ms/step  {B * (S + T) / per_step:10.0f} training tokens/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 was fastest on 2 cores)")
    parser.add_argument("--only", default="", help="seq2seq-date or attention-date (default: both)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    if args.only in ("", "seq2seq-date"):
        bench("seq2seq-date", Seq2seq(attention=False))
    if args.only in ("", "attention-date"):
        bench("attention-date", Seq2seq(attention=True))


if __name__ == "__main__":
    main()
