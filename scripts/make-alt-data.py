#!/usr/bin/env python3
"""Make the ALT-contig test data in tests/data/alt/, deterministically.

  scripts/make-alt-data.py [OUTDIR]     (default: tests/data/alt)

A small GRCh38 in miniature: two primary chromosomes and ALT haplotype
contigs named as GRCh38's are, with bwa-kit's `.alt` file beside them.

ref.fa.gz
    chr1 (150 kbp) and chr2 (70 kbp): random sequence whose GC content drifts
    along the chromosome, an interspersed repeat family (a 300 bp Alu-like
    element, 60 copies diverged 8-18%), tandem repeats, and a segmental
    duplication (2 kbp, 7 copies diverged 0.3-1.5%) so that reads have more
    than 5 equally good hits. Then six ALT contigs, each a slice of a
    primary chromosome diverged 0.5-3% by substitutions and small indels
    (1-12 bp), as GRCh38's ALT haplotypes are:
      chr1_KI270706v1_alt  chr1:20,001-50,000    0.5%
      chr1_KI270707v1_alt  chr1:25,001-55,000    1%   (overlaps the one above:
                                                       two ALT haplotypes of a locus)
      chr1_KI270708v1_alt  chr1:70,001-100,000   2%   with 1.2 kbp of novel
                                                       sequence (ALT-only hits)
      chr1_KI270709v1_alt  chr1:110,001-135,000  3%   reverse-complemented
      chr1_KI270710v1_alt  chr1:58,001-66,000    1%   holds segmental-duplication
                                                       copies (ALT hits among >5 XA hits)
      chr2_KI270711v1_alt  chr2:15,001-45,000    1.5%
ref.fa.gz.alt
    bwa-kit's format: `@SQ` lines of the primary contigs, then one SAM line
    per ALT contig (its placement on the primary chromosome, with the CIGAR
    of the edits made). bwa mem reads only the first field of non-`@` lines.
reads_1.fq.gz, reads_2.fq.gz
    1,500 pairs of 150 bp (insert ~ N(380, 50)), half of them from ALT
    contigs, with 0.4% sequencing substitutions and rare 1 bp indels; 3% of
    the pairs are chimeric (read 1 joins a primary and an ALT piece), 1%
    random. Names follow dwgsim's pattern (contig_pos1_pos2_...).

Uses only Python's standard library; the same Python version gives the same
bytes (gzip headers carry no time stamp).
"""
import gzip
import os
import random
import sys

BASES = "ACGT"
COMP = str.maketrans("ACGT", "TGCA")


def revcomp(s):
    return s.translate(COMP)[::-1]


def random_seq(rng, n, gc_from=0.38, gc_to=0.46):
    """Random bases whose GC content drifts from gc_from to gc_to."""
    out = []
    for i in range(n):
        gc = gc_from + (gc_to - gc_from) * i / max(n, 1)
        r = rng.random()
        if r < gc:
            out.append("G" if rng.random() < 0.5 else "C")
        else:
            out.append("A" if rng.random() < 0.5 else "T")
    return out


def substitute(rng, s, rate):
    return "".join(
        rng.choice([b for b in BASES if b != c]) if rng.random() < rate else c for c in s
    )


def diverge(rng, s, rate):
    """s with events at `rate` per base: 85% substitutions, 15% indels of
    1-12 bp. Returns the new sequence and the CIGAR of it against s."""
    out, ops = [], []

    def op(kind, n):
        if ops and ops[-1][0] == kind:
            ops[-1][1] += n
        else:
            ops.append([kind, n])

    i = 0
    while i < len(s):
        if rng.random() < rate:
            r = rng.random()
            if r < 0.85:
                out.append(rng.choice([b for b in BASES if b != s[i]]))
                op("M", 1)
                i += 1
                continue
            n = min(12, 1 + int(rng.expovariate(0.4)))
            if r < 0.925:
                out.append("".join(rng.choice(BASES) for _ in range(n)))
                op("I", n)
            else:
                n = min(n, len(s) - i - 1)
                if n > 0:
                    op("D", n)
                    i += n
            continue
        out.append(s[i])
        op("M", 1)
        i += 1
    return "".join(out), ops


def cigar_with_insertion(ops, qpos, n):
    """`ops` with an insertion of `n` bases after query base `qpos`."""
    out, q = [], 0
    for kind, m in ops:
        eats = kind in "MI"
        if eats and q <= qpos < q + m and n:
            cut = qpos - q
            if cut:
                out.append([kind, cut])
            out.append(["I", n])
            out.append([kind, m - cut])
            n = 0
        else:
            out.append([kind, m])
        q += m if eats else 0
    return "".join(f"{m}{k}" for k, m in out)


def make_primary(rng, n, alu, n_alu):
    seq = random_seq(rng, n)
    # Tandem repeats.
    for _ in range(n // 15000):
        unit = "".join(rng.choice(BASES) for _ in range(rng.randint(2, 40)))
        p = rng.randrange(0, n - 2000)
        rep = (unit * (1 + 600 // len(unit)))[: rng.randint(100, 600)]
        seq[p : p + len(rep)] = substitute(rng, rep, 0.02)
    # Interspersed repeats, either strand.
    for _ in range(n_alu):
        copy = substitute(rng, alu, rng.uniform(0.08, 0.18))
        if rng.random() < 0.5:
            copy = revcomp(copy)
        p = rng.randrange(0, n - len(copy))
        seq[p : p + len(copy)] = copy
    return seq


def write_fasta(f, name, seq):
    f.write(f">{name}\n".encode())
    for k in range(0, len(seq), 60):
        f.write((seq[k : k + 60] + "\n").encode())


class gz_writer(gzip.GzipFile):
    """A gzip file without name or time stamp in its header."""

    def __init__(self, path):
        self.raw = open(path, "wb")
        super().__init__(filename="", mode="wb", fileobj=self.raw, mtime=0)

    def close(self):
        super().close()
        self.raw.close()


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "tests/data/alt"
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(20240616)
    alu = "".join(random_seq(rng, 300, 0.55, 0.55))
    segdup = "".join(random_seq(rng, 2000, 0.45, 0.45))

    chr1 = make_primary(rng, 150000, alu, 40)
    chr2 = make_primary(rng, 70000, alu, 20)
    # Segmental duplication: 5 copies in chr1 (two inside the region of
    # chr1_KI270710v1_alt), 2 in chr2.
    for chrom, places in ((chr1, [58500, 62500, 10000, 140000, 102000]), (chr2, [5000, 60000])):
        for p in places:
            chrom[p : p + 2000] = substitute(rng, segdup, rng.uniform(0.003, 0.015))
    primary = {"chr1": "".join(chr1), "chr2": "".join(chr2)}

    alts = []  # (name, chrom, beg, end, seq, cigar, reverse)
    specs = [
        ("chr1_KI270706v1_alt", "chr1", 20000, 50000, 0.005, None, False),
        ("chr1_KI270707v1_alt", "chr1", 25000, 55000, 0.01, None, False),
        ("chr1_KI270708v1_alt", "chr1", 70000, 100000, 0.02, 1200, False),
        ("chr1_KI270709v1_alt", "chr1", 110000, 135000, 0.03, None, True),
        ("chr1_KI270710v1_alt", "chr1", 58000, 66000, 0.01, None, False),
        ("chr2_KI270711v1_alt", "chr2", 15000, 45000, 0.015, None, False),
    ]
    for name, chrom, beg, end, rate, novel, reverse in specs:
        seq, ops = diverge(rng, primary[chrom][beg:end], rate)
        mid = len(seq) // 2
        cigar = cigar_with_insertion(ops, mid, novel or 0)
        if novel:
            # Novel sequence in the middle: an ALT-only stretch.
            seq = seq[:mid] + "".join(random_seq(rng, novel, 0.4, 0.4)) + seq[mid:]
        if reverse:
            seq = revcomp(seq)
        alts.append((name, chrom, beg, end, seq, cigar, reverse))

    contigs = list(primary.items()) + [(a[0], a[4]) for a in alts]
    with gz_writer(os.path.join(outdir, "ref.fa.gz")) as f:
        for name, seq in contigs:
            write_fasta(f, name, seq)

    with open(os.path.join(outdir, "ref.fa.gz.alt"), "w") as f:
        for name, seq in primary.items():
            f.write(f"@SQ\tSN:{name}\tLN:{len(seq)}\n")
        for name, chrom, beg, end, seq, cigar, reverse in alts:
            flag = 16 if reverse else 0
            f.write(f"{name}\t{flag}\t{chrom}\t{beg + 1}\t255\t{cigar}\t*\t0\t0\t*\t*\n")

    # Reads.
    r1 = gz_writer(os.path.join(outdir, "reads_1.fq.gz"))
    r2 = gz_writer(os.path.join(outdir, "reads_2.fq.gz"))
    seqs = dict(contigs)
    prim_names = list(primary)
    alt_names = [a[0] for a in alts]
    rlen = 150

    def pick(from_alt):
        pool = alt_names if from_alt else prim_names
        weights = [len(seqs[n]) for n in pool]
        return rng.choices(pool, weights)[0]

    def errors(s):
        out = []
        for c in s:
            r = rng.random()
            if r < 0.004:
                out.append(rng.choice([b for b in BASES if b != c]))
            elif r < 0.0042:
                continue
            elif r < 0.0044:
                out.append(c + rng.choice(BASES))
            else:
                out.append(c)
        s = "".join(out)
        s = (s + "".join(rng.choice(BASES) for _ in range(rlen)))[:rlen]
        return s

    def qual():
        return "".join(chr(33 + rng.choice([20, 30, 34, 37, 37, 40])) for _ in range(rlen))

    for k in range(1500):
        kind = rng.random()
        name = pick(rng.random() < 0.5)
        seq = seqs[name]
        ins = max(2 * rlen // 2, int(rng.gauss(380, 50)))
        p = rng.randrange(0, len(seq) - ins)
        frag = seq[p : p + ins]
        a, b = frag[:rlen], revcomp(frag[-rlen:])
        if kind < 0.03:
            # Chimera: read 1 is half this fragment, half another contig.
            other = seqs[pick(name in primary)]
            q = rng.randrange(0, len(other) - rlen)
            a = a[: rlen // 2] + other[q : q + rlen - rlen // 2]
        elif kind < 0.04:
            a = "".join(rng.choice(BASES) for _ in range(rlen))
            b = "".join(rng.choice(BASES) for _ in range(rlen))
        flip = rng.random() < 0.5
        if flip:
            a, b = b, a
        rn = f"{name}_{p + 1}_{p + ins - rlen + 1}_{int(flip)}_{int(not flip)}_0_0_0:0:0_0:0:0_{k:x}"
        r1.write(f"@{rn}/1\n{errors(a)}\n+\n{qual()}\n".encode())
        r2.write(f"@{rn}/2\n{errors(b)}\n+\n{qual()}\n".encode())
    r1.close()
    r2.close()


if __name__ == "__main__":
    main()
