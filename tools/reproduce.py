#!/usr/bin/env python3
"""tools/reproduce.py — rerun every chapter's default run and write the tables it prints to docs/results/chN.md.

`make reproduce` runs it. Each chapter program is run with its default flags and its default seed (read from its
--help and written on the command line, so the command at the top of each file is the whole story), and every table
the program prints is turned into a Markdown table, word for word and digit for digit, with the few lines README
quotes beside them. README's tables can then be checked against these files: training is bit-reproducible for a
fixed seed (autodiff/tensor.cpp, gemm), so the same build with the same OpenBLAS kernels prints the same numbers.
The kernels (named by every program's --help) are part of the record: each kernel set writes its own folder
(RESULTS), docs/results for the kernels the published figures were measured with, docs/results/avx2 for the
two sets of a processor with AVX2 but without AVX-512, and docs/results/<kernels> for any other.

What is left out, because it depends on time rather than on the seed: columns of seconds, and chapter 5's race,
which gives each model a budget of processor time (it is skipped with --seconds 0 and labelled as such).

  tools/reproduce.py [--f32 build/f32/bin] [--f64 build/f64/bin] [--quick] [--out FOLDER] [--only ch1,ch4]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

# Where each OpenBLAS kernel set's runs go: SkylakeX's are the published runs (README's and the lessons'
# figures); Haswell's and Zen's printed the same tables, digit for digit, for every chapter (2026-12-05).
RESULTS = {"SkylakeX": "docs/results", "Haswell": "docs/results/avx2", "Zen": "docs/results/avx2"}
CHAPTERS = ["ch0", "ch1", "ch2", "ch3", "ch4", "ch5", "ch6", "ch7", "ch8"]
DOUBLE = {"ch0"}  # built in double precision (its gradient check needs it), as `make ch0` does
EXTRA_FLAGS = {"ch5": ["--seconds", "0"]}  # the race trains for processor time: not reproducible by a seed
NO_OUT_FLAG = {"ch0"}  # writes no files, so has no --out
# Where the time-dependent part of a chapter's output begins (--quick runs a short race even with --seconds 0).
CUT_AT = {"ch5": re.compile(r"^3\. The harder task")}
TIME_COLUMN = re.compile(r"^(seconds|time|wall s|CPU s|tokens/s)$")
NOTES = {
    "ch5": "Part 2, the race, is not run here: it gives each model a budget of processor time, so how many steps fit "
           "in it, and every figure it prints, depends on the machine and on what else runs (time-dependent). "
           "`make ch5` runs it.",
}

# Lines quoted as they are (not tables): a regular expression per chapter.
QUOTES = {
    "ch0": r"^((W|b) +\(.* (pass|FAIL)|→ .*|loss \S+ → .*training accuracy.*)$",
    "ch4": r"^(Depth \d+:.*|Best residual .*)$",
    "ch5": r"^Beam search with k = 1 .*$",
    "ch6": r"^(ε by epoch .*|\d\. Greedy against beam search .*|greedy against beam search .*)$",
    "ch7": r"^(The pointer-generator with beam search .*|Exact match on the \d+ test answers with an unseen name.*)$",
    "ch8": r"^\d\. Attention of .*$",
}


NUMBER = re.compile(r"^[-+]?[\d.]+(e[-+]?\d+)?[%s]?$|^nan%?$|^never$")


def spans(line, gap):
    """The pieces of `line` separated by at least `gap` spaces: [(start, end, text)]."""
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+(?: {1,%d}\S+)*" % (gap - 1) if gap > 1 else r"\S+", line)]


def assign(header, row):
    """The words of `row`, each put under the header cell it overlaps most (a column's values are left- or
    right-aligned under its name, so they overlap it), or else the one whose end is nearest; a column the row
    leaves empty stays ''."""
    out = [""] * len(header)
    for start, end, word in spans(row, 1):
        best = max(range(len(header)),
                   key=lambda k: (min(end, header[k][1]) - max(start, header[k][0]), -abs(end - header[k][1])))
        out[best] = (out[best] + " " + word).strip()
    return out


def markdown(names, rows):
    """A Markdown table; columns whose cells are all numbers (or empty) are right-aligned. Time columns are dropped."""
    keep = [k for k, n in enumerate(names) if not TIME_COLUMN.match(n)]
    names = [n.replace("|", "\\|") for n in names]  # a | inside a cell (chapter 7's |argmax − t|) would end it
    align = ["---:" if all(r[k] == "" or NUMBER.match(r[k]) for r in rows) else "---" for k in range(len(names))]
    lines = ["| " + " | ".join(names[k] for k in keep) + " |", "|" + "|".join(align[k] for k in keep) + "|"]
    lines += ["| " + " | ".join(r[k] for k in keep) + " |" for r in rows]
    return "\n".join(lines)


# A table is a header line (names apart by two spaces or more) and the rows under it: lines that end with a
# number. Anything else (a blank line, a sentence) ends the table.
HEADERS = [
    # (header pattern, caption); {above} is the line above the header
    (re.compile(r"^ *epoch .*\(test exact match\)$"), "Test exact match after each epoch"),
    (re.compile(r"^ *epoch +loss +exact"), "Each epoch: training loss and test exact match"),
    (re.compile(r"^ *length "), "{above}"),
    (re.compile(r"^ *depth "), "{above}"),
    (re.compile(r"^ *epoch +teacher forcing: forced"), "{above}"),
    (re.compile(r"^model +stack +layer 1"), "Gradient norm of each layer at initialisation"),
    (re.compile(r"^model +parameters +final match"), "Each model at the end"),
    (re.compile(r"^Decoding the .* exact +BLEU$"), "Decoding the test set"),
    (re.compile(r"^ *decoding +exact match +BLEU$"), "Decoding the test set"),
    (re.compile(r"^ *caption +scenes +exact "), "{above}"),
    (re.compile(r"^ *model +parameters +FLOPs/step"), "Each model: parameters, and the FLOPs of one decoder step's attention"),
    (re.compile(r"^ *model +steps to 95%"), "{above}"),
    (re.compile(r"^ *epoch +plain: all / unseen"), "(c) Exact match after each epoch: all test answers / those with an unseen name"),
]


def is_row(line):
    words = line.split()
    return len(words) >= 2 and NUMBER.match(words[-1]) is not None


def tables(lines):
    """Every table in a program's output: [(caption, markdown)]."""
    found = []
    for i, line in enumerate(lines):
        for pattern, caption in HEADERS:
            if not pattern.match(line):
                continue
            header = spans(line.replace("(test exact match)", ""), 2)
            names = [h[2] for h in header]
            if names[0].startswith("Decoding"):  # "Decoding the 5000 test dates:" heads the column of decodings
                names[0] = "decoding"
            rows = []
            numbered = names[0] in ("epoch", "length", "depth")  # such a table's rows start with their number
            for row in lines[i + 1:]:
                if not is_row(row) or (numbered and not NUMBER.match(row.split()[0])):
                    break
                rows.append(assign(header, row))
            if rows:
                found.append((caption.format(above=lines[i - 1].strip() if i > 0 else ""), markdown(names, rows)))
    return found


def ch0_table(lines):
    """Chapter 0 prints its training loss as lines 'epoch N  loss X'."""
    rows = [m.groups() for m in (re.match(r"^ *epoch +(\d+) +loss +([\d.]+)$", l) for l in lines) if m]
    return [("Training loss", markdown(["epoch", "loss"], [list(r) for r in rows]))] if rows else []


def from_help(program):
    """The program's default seed and the OpenBLAS kernels it runs on, both read from one run of its --help."""
    help_text = subprocess.run([program, "--help"], capture_output=True, text=True).stdout
    found = []
    for pattern, what in [(r"--seed N .*\(default: (\d+)", "default --seed"), (r"OpenBLAS's (\S+) kernels", "OpenBLAS kernels")]:
        m = re.search(pattern, help_text)
        if not m:
            sys.exit(f"reproduce: {program} --help names no {what}")
        found.append(m.group(1))
    return found


def program_path(ch, args):
    program = os.path.join(args.f64 if ch in DOUBLE else args.f32, ch)
    if not os.access(program, os.X_OK):
        sys.exit(f"reproduce: {program} is not built (make {ch} builds it)")
    return program


def run_chapter(ch, args, out_folder):
    program = program_path(ch, args)
    seed, kernels = from_help(program)
    command = [program, "--seed", seed] + EXTRA_FLAGS.get(ch, [])
    if ch not in NO_OUT_FLAG:
        command += ["--out", out_folder]
    if args.quick:
        command.append("--quick")
    print(f"reproduce: {' '.join(command)}", file=sys.stderr, flush=True)
    run = subprocess.run(command, stdout=subprocess.PIPE, text=True)  # progress bars (stderr) go to the terminal
    if run.returncode != 0:
        sys.exit(f"reproduce: {ch} exited with status {run.returncode}")
    lines = run.stdout.splitlines()
    cut = next((i for i, l in enumerate(lines) if ch in CUT_AT and CUT_AT[ch].match(l)), len(lines))
    lines = lines[:cut]
    found = (ch0_table(lines) if ch == "ch0" else []) + tables(lines)
    quoted = [l.strip() for l in lines if ch in QUOTES and re.match(QUOTES[ch], l.strip())]
    shown = " ".join(c if c != out_folder else "OUT" for c in command)
    text = [f"<!-- Generated by tools/reproduce.py (make reproduce): do not edit. -->",
            f"# {ch}: what the {'quick' if args.quick else 'default'} run prints", "",
            f"Command: `{shown}` (seed {command[2]}{'; OUT a scratch folder for its plots and checkpoints' if 'OUT' in shown else ''}), "
            f"with OpenBLAS's {kernels} kernels.",
            "",
            "Every table the program printed, digit for digit (columns of seconds left out). Training is "
            "bit-reproducible for a fixed seed, so the same build with the same kernels prints these numbers "
            "again, whatever the thread schedule (README, Reproducibility).", ""]
    if ch in NOTES:
        text += [NOTES[ch], ""]
    for caption, table in found:
        text += [f"## {caption}", "", table, ""]
    if quoted:
        text += ["## Quoted lines", ""] + [f"> {q}  " for q in quoted] + [""]
    path = os.path.join(args.out, f"{ch}.md")
    with open(path, "w") as f:
        f.write("\n".join(text))
    print(f"reproduce: wrote {path} ({len(found)} tables)", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--f32", default="build/f32/bin", help="folder of the float chapter programs")
    parser.add_argument("--f64", default="build/f64/bin", help="folder of the double-precision ones (ch0)")
    parser.add_argument("--out", help="folder the chN.md files are written to (default: the kernels' folder, "
                                      "docs/results with SkylakeX's, docs/results/avx2 with Haswell's or Zen's; with "
                                      "--quick, build/reproduce-quick, so quick tables never replace the real ones)")
    parser.add_argument("--only", default=",".join(CHAPTERS), help="chapters to run, e.g. ch1,ch4")
    parser.add_argument("--quick", action="store_true", help="every chapter's --quick run (seconds; for the tests)")
    args = parser.parse_args()
    chapters = args.only.split(",")
    for ch in chapters:
        if ch not in CHAPTERS:
            sys.exit(f"reproduce: --only: unknown chapter '{ch}' (known: {', '.join(CHAPTERS)})")
    if args.out is None and args.quick:
        args.out = "build/reproduce-quick"
    elif args.out is None:
        _, found = from_help(program_path(chapters[0], args))
        args.out = RESULTS.get(found, os.path.join("docs/results", found.lower()))
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reproduce-") as scratch:
        for ch in chapters:
            run_chapter(ch, args, scratch)


if __name__ == "__main__":
    main()
