import random
random.seed(7)
def rs(n): return ''.join(random.choice('ACGT') for _ in range(n))
c1=rs(1200); c2=rs(900)
# ensure homopolymer at c1[300:306]
c1=c1[:300]+'AAAAAA'+c1[306:]
rep=list(c1[1000:1100]); rep[30]='A' if rep[30]!='A' else 'C'; rep[70]='G' if rep[70]!='G' else 'T'
c2=c2[:600]+''.join(rep)+c2[700:]
open('ref.fa','w').write('>chr1 first contig\tx\n'+c1+'\n>chr2\n'+c2+'\n')
comp={'A':'T','C':'G','G':'C','T':'A','N':'N'}
def rc(s): return ''.join(comp[c] for c in reversed(s))
def q(n,o=0): return ''.join(chr(33+10+((i*7+o)%30)) for i in range(n))
reads=[]
reads.append(('fwd', c1[100:200]))
reads.append(('rev', rc(c1[500:600])))
# deletion of one A in the homopolymer
reads.append(('del', c1[250:303]+c1[304:360]))
reads.append(('delrev', rc(c1[250:303]+c1[304:360])))
# chimeric: 60 from chr1 + 50 from chr2 reverse
reads.append(('chim', c1[700:760]+rc(c2[200:250])))
reads.append(('chim2', c2[400:450]+c1[900:980]))
reads.append(('unmap', rs(100)))
reads.append(('mism', c1[800:850]+('C' if c1[850]!='C' else 'G')+c1[851:900]))
reads.append(('repeat', c1[1000:1100]))
reads.append(('withN', c2[10:60]+'N'+c2[61:110]))
with open('se.fq','w') as f:
  for i,(n,s) in enumerate(reads):
    f.write('@%s comment:%d\tBC:Z:ACGT\n%s\n+\n%s\n'%(n,i,s,q(len(s),i)))
# pairs
pairs=[]
pairs.append(('p1', c1[100:200], rc(c1[350:450])))
pairs.append(('p2', rs(100), rc(c1[600:700])))   # r1 unmapped
pairs.append(('p3', c2[100:200], rs(100)))       # r2 unmapped
pairs.append(('p4', c1[100:200], c2[300:400]))   # different contigs
pairs.append(('p5', c1[700:760]+rc(c2[200:250]), rc(c1[900:1000]))) # chimeric r1
pairs.append(('p6', rs(90), rs(90)))   # both unmapped
pairs.append(('p7', rc(c1[400:500]), c1[300:400]))  # RF-ish / overlapping
with open('r1.fq','w') as f1, open('r2.fq','w') as f2:
  for i,(n,a,b) in enumerate(pairs):
    f1.write('@%s/1\n%s\n+\n%s\n'%(n,a,q(len(a),i)))
    f2.write('@%s/2\n%s\n+\n%s\n'%(n,b,q(len(b),i+3)))
# ALT reference (alt.fa, alt.fa.alt, alt.fq)
random.seed(3)
c=rs(1000)
alt=list(c[200:500]); alt[150]='A' if alt[150]!='A' else 'C'
alt=''.join(alt)
open('alt.fa','w').write('>chrA\n'+c+'\n>chrA_alt\n'+alt+'\n')
open('alt.fa.alt','w').write('chrA_alt\t0\tchrA\t201\t60\t300M\t*\t0\t0\t*\t*\n')
open('alt.fq','w').write('@onalt\n'+alt[100:200]+'\n+\n'+'I'*100+'\n@onpri\n'+c[300:400]+'\n+\n'+'I'*100+'\n@onpri2\n'+c[500:600]+'\n+\n'+'I'*100+'\n')
