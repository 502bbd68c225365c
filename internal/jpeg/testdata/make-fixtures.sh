#!/bin/sh
# Makes the decoder's test fixtures: benign synthetic pictures (gradients,
# rings and seeded noise, no photographs) encoded by libjpeg-turbo's cjpeg
# and jpegtran (Debian: libjpeg-turbo-progs) in every variant the decoder
# handles. The outputs are committed; CI does not run this.
set -eu
cd "$(dirname "$0")"
python3 - <<'PY'
import random, math
def ppm(name, w, h, seed, grey=False):
    r = random.Random(seed)
    px = bytearray()
    for y in range(h):
        for x in range(w):
            v = 128 + 90*math.sin(x/7.0 + y/11.0) * math.cos(math.hypot(x-w/3, y-h/2)/9.0)
            n = r.randint(-12, 12)
            rr = max(0, min(255, int(v + n)))
            gg = max(0, min(255, int(255*x/max(1,w-1)*0.7 + 40 + n)))
            bb = max(0, min(255, int(255*y/max(1,h-1)*0.8 + 20 - n)))
            px += bytes([rr, gg, bb])
    open(name, 'wb').write(b'P6 %d %d 255\n' % (w, h) + bytes(px))
ppm('/tmp/fx-small.ppm', 67, 45, 1)
ppm('/tmp/fx-tall.ppm', 100, 2000, 2)
ppm('/tmp/fx-tiny.ppm', 3, 5, 3)
PY
S=/tmp/fx-small.ppm
for s in 1x1 2x1 1x2 2x2 4x1 4x2 1x4; do
  cjpeg -quality 85 -sample $s -outfile s$s.jpg $S
  cjpeg -quality 85 -sample $s -progressive -outfile p$s.jpg $S
done
cjpeg -quality 85 -sample 2x2 -restart 1 -outfile rst-rows.jpg $S
cjpeg -quality 85 -sample 2x2 -restart 3B -progressive -outfile rst-prog.jpg $S
cjpeg -quality 85 -sample 1x1 -restart 1B -outfile rst-blocks.jpg $S
cjpeg -quality 60 -grayscale -outfile grey.jpg $S
cjpeg -quality 60 -grayscale -progressive -outfile grey-prog.jpg $S
cjpeg -quality 95 -rgb -outfile rgb.jpg $S
cjpeg -quality 100 -sample 2x2 -optimize -outfile q100.jpg $S
cjpeg -quality 5 -sample 2x2 -outfile q5.jpg $S
cjpeg -quality 85 -sample 2x2,1x1,2x2 -outfile mixed.jpg $S
printf '0;\n1;\n2;\n' > /tmp/fx-seq.scans
cjpeg -quality 85 -sample 2x1 -scans /tmp/fx-seq.scans -outfile multiscan.jpg $S
cjpeg -quality 85 -sample 2x2 -outfile tiny.jpg /tmp/fx-tiny.ppm
cjpeg -quality 85 -sample 2x2 -progressive -outfile tiny-prog.jpg /tmp/fx-tiny.ppm
cjpeg -quality 90 -sample 2x2 -outfile tall-420.jpg /tmp/fx-tall.ppm
cjpeg -quality 85 -sample 2x2 -arithmetic -outfile arith.jpg $S
# A degenerate tall picture (100×2000, colour changing only down the
# picture), the shape whose PDQ hash moved 70 bits with Go's image/jpeg: its
# hash is rounding noise, so only libjpeg's exact pixels give the reference's.
python3 - <<'PY'
import math
W, H = 100, 2000
px = bytearray()
for y in range(H):
    for x in range(W):
        px += bytes((int(255*y/(H-1)), int(128+100*math.sin(y/50)), 255-int(255*y/(H-1))))
open('/tmp/fx-tallgrad.ppm', 'wb').write(b'P6 %d %d 255\n' % (W, H) + bytes(px))
PY
cjpeg -quality 90 -outfile tall-gradient.jpg /tmp/fx-tallgrad.ppm
