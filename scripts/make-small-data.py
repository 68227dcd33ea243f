#!/usr/bin/env python3
"""Make the small data set shipped in data/small/, deterministically.

  scripts/make-small-data.py [OUTDIR]     (default: data/small)

Writes ref.fa (three contigs, ~300 kbp: interspersed and tandem repeats,
an N gap, IUPAC codes, lowercase runs) and reads_1.fq.gz / reads_2.fq.gz (2,000
pairs of 150 bp). Besides ordinary pairs with substitutions and small
indels, some reads carry N bases, hang off a contig end, are chimeric (so
they need supplementary alignments), come from the same strand
(discordant orientation), or are random (unmappable). Read names follow
dwgsim's pattern (contig_pos1_pos2_strand1_strand2_..._id) so that
shared/bench/samcmp.py can score against the truth. Uses only Python's
standard library; the same Python version gives the same bytes.
"""
import gzip
import os
import random
import sys

BASES = "ACGT"
COMP = str.maketrans("ACGTNacgtnRYKMSWBDHVryk", "TGCANtgcanYRMKSWVHDByrm")
IUPAC = "RYKMSWBDHV"


def revcomp(s):
    return s.translate(COMP)[::-1]


def mutate(rng, s, rate):
    out = []
    for c in s:
        if rng.random() < rate:
            out.append(rng.choice([b for b in BASES if b != c.upper()]))
        else:
            out.append(c)
    return "".join(out)


def make_reference(rng):
    repeat = "".join(rng.choice(BASES) for _ in range(300))  # an "Alu"
    contigs = []
    for name, length in (("chrA", 200_000), ("chrB", 80_000), ("chrC", 20_000)):
        seq = []
        while sum(map(len, seq)) < length:
            r = rng.random()
            if r < 0.03:
                seq.append(mutate(rng, repeat, 0.05))
            elif r < 0.04:
                unit = "".join(rng.choice(BASES) for _ in range(rng.randint(2, 6)))
                seq.append(unit * rng.randint(5, 30))
            else:
                seq.append("".join(rng.choice(BASES) for _ in range(rng.randint(200, 2000))))
        s = list("".join(seq)[:length])
        contigs.append([name, s])
    a = contigs[0][1]
    a[120_000:120_500] = "N" * 500  # an N gap
    for pos in rng.sample(range(1000, 190_000), 40):  # scattered IUPAC codes
        a[pos] = rng.choice(IUPAC)
    b = contigs[1][1]
    b[5000:5600] = [c.lower() for c in b[5000:5600]]  # soft-masked run
    dup = "".join(a[50_000:52_000])  # a 2 kbp segmental duplication
    b[40_000:42_000] = list(mutate(rng, dup, 0.01))
    return [(n, "".join(s)) for n, s in contigs]


def clean(s):
    # Reads are sequenced from the real molecule: IUPAC/N become random bases.
    return "".join(c if c in BASES else random.choice(BASES) for c in s.upper())


def sequence(rng, s, err):
    out = []
    i = 0
    while i < len(s):
        r = rng.random()
        if r < err * 0.1:  # small insertion
            out.append("".join(rng.choice(BASES) for _ in range(rng.randint(1, 3))))
        elif r < err * 0.2:  # small deletion
            i += rng.randint(1, 3)
            continue
        elif r < err:
            out.append(rng.choice([b for b in BASES if b != s[i]]))
        else:
            out.append(s[i])
        i += 1
    return "".join(out)


def qual(rng, n):
    return "".join(chr(33 + max(2, min(40, int(rng.gauss(32, 6))))) for _ in range(n))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "data/small"
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261125)
    random.seed(7)
    ref = make_reference(rng)
    with open(os.path.join(out, "ref.fa"), "w") as f:
        for name, s in ref:
            f.write(f">{name} synthetic contig for ferrous tests\n")
            for i in range(0, len(s), 60):
                f.write(s[i : i + 60] + "\n")
    rl = 150
    r1, r2 = [], []
    for i in range(2000):
        kind = rng.random()
        ci = rng.choices(range(len(ref)), weights=[len(s) for _, s in ref])[0]
        name, s = ref[ci]
        ins = max(rl + 20, int(rng.gauss(350, 50)))
        p = rng.randint(0, len(s) - ins)
        s1, s2 = 0, 1
        if kind < 0.03:  # hangs off the contig start or end
            if rng.random() < 0.5:
                p = 0
                frag = "".join(rng.choice(BASES) for _ in range(40)) + clean(s[: ins - 40])
                p = -40
            else:
                p = len(s) - ins + 40
                frag = clean(s[p:]) + "".join(rng.choice(BASES) for _ in range(40))
        else:
            frag = clean(s[p : p + ins])
        if rng.random() < 0.5:
            frag = revcomp(frag)
            s1, s2 = 1, 0
        # Sequence a little more than a read so deletions do not shorten it.
        a = sequence(rng, frag[: rl + 10], 0.01)[:rl].ljust(rl, "A")
        b = sequence(rng, revcomp(frag)[: rl + 10], 0.01)[:rl].ljust(rl, "A")
        if 0.03 <= kind < 0.06:  # chimeric read 1: second half from elsewhere
            cj = rng.randrange(len(ref))
            o = ref[cj][1]
            q = rng.randint(0, len(o) - rl)
            a = a[:90] + clean(o[q : q + 60])
        elif 0.06 <= kind < 0.08:  # same-strand pair
            b = revcomp(b)
        elif 0.08 <= kind < 0.10:  # N bases in read 2
            b = list(b)
            for k in rng.sample(range(rl), rng.randint(1, 8)):
                b[k] = "N"
            b = "".join(b)
        elif 0.10 <= kind < 0.12:  # unmappable read 1
            a = "".join(rng.choice(BASES) for _ in range(rl))
        pos1 = p + 1  # 1-based leftmost base of each read on the reference
        pos2 = p + ins - rl + 1
        if s1 == 1:
            pos1, pos2 = pos2, pos1
        rid = f"{name}_{pos1}_{pos2}_{s1}_{s2}_0_0_0:0:0_0:0:0_{i:x}"
        r1.append(f"@{rid}/1\n{a}\n+\n{qual(rng, rl)}\n")
        r2.append(f"@{rid}/2\n{b}\n+\n{qual(rng, rl)}\n")
    write_edge_reads(ref, os.path.join(out, "reads_edge.fa"))
    for fname, recs in (("reads_1.fq.gz", r1), ("reads_2.fq.gz", r2)):
        # mtime=0 and no file name in the header keep the bytes reproducible.
        with open(os.path.join(out, fname), "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
                f.write("".join(recs).encode())


def write_edge_reads(ref, path):
    """FASTA reads that exercise other code paths: long reads (0.8-6 kbp,
    5% errors: the long-read seed filter, z-drop, supplementaries),
    lowercase and IUPAC bases, comments, and reads too short to seed."""
    rng = random.Random(5)
    seq = ref[0][1]
    recs = []
    for i in range(40):
        n = rng.choice([800, 1500, 3000, 6000])
        p = rng.randint(0, 110_000 - n)
        s = []
        for c in seq[p : p + n].upper().replace("N", "A"):
            x = rng.random()
            if x < 0.035:
                s.append(rng.choice(BASES))
            elif x < 0.0425:
                s.append(c + rng.choice(BASES))
            elif x >= 0.05:
                s.append(c)
        s = "".join(s)
        if rng.random() < 0.5:
            s = revcomp(s)
        recs.append(f">long{i}\n{s}\n")
    for i in range(30):
        p = rng.randint(0, len(seq) - 100)
        s = list(seq[p : p + 100].lower() if i % 3 == 0 else seq[p : p + 100])
        if i % 3 == 1:
            for k in rng.sample(range(100), 5):
                s[k] = rng.choice("RYKMSWN")
        recs.append(f">edge{i} a comment\twith a tab\n{''.join(s)}\n")
    recs.append(">short\nACGTACGTAC\n>empty\n\n>one\nA\n")
    with open(path, "w") as f:
        f.writelines(recs)


if __name__ == "__main__":
    main()
