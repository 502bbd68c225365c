package jpeg

// libjpeg's accurate integer inverse DCT (jidctint.c, jpeg_idct_islow):
// the Loeffler–Ligtenberg–Moschytz algorithm with 13-bit fixed-point
// constants, two extra bits of precision between the passes and rounding
// by adding half before each right shift. Every product and sum is exact
// in 32 bits, so the order of operations within a pass does not matter and
// skipping a term that is zero gives the same result; only the descaling
// points do, and they are libjpeg's.
const (
	constBits = 13
	pass1Bits = 2

	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// clamp gives the sample for an inverse DCT output (before the +128 level
// shift is added). libjpeg's C code indexes a table with the value masked
// to 10 bits, so values beyond ±512 wrap; its SIMD code, which the
// libjpeg build runs on x86-64 and ARM, saturates. Only corrupt data gets
// that far; we saturate, as the library that is actually used does.
func clamp(x int32) byte {
	x += 128
	if uint32(x) > 255 {
		if x < 0 {
			return 0
		}
		return 255
	}
	return byte(x)
}

// idctIslow transforms one block of quantised coefficients (natural order)
// with quantisation table q into 8×8 samples at dst with the given stride.
func idctIslow(in *[64]int16, q *[64]int32, dst []byte, stride int) {
	var ws [64]int32
	_ = dst[7*stride+7]

	// Pass 1: columns, into the workspace, scaled up by 2^pass1Bits.
	for col := 0; col < 8; col++ {
		if in[8+col] == 0 && in[16+col] == 0 && in[24+col] == 0 && in[32+col] == 0 &&
			in[40+col] == 0 && in[48+col] == 0 && in[56+col] == 0 {
			dc := int32(in[col]) * q[col] << pass1Bits
			ws[col], ws[8+col], ws[16+col], ws[24+col] = dc, dc, dc, dc
			ws[32+col], ws[40+col], ws[48+col], ws[56+col] = dc, dc, dc, dc
			continue
		}
		// Even part.
		z2 := int32(in[16+col]) * q[16+col]
		z3 := int32(in[48+col]) * q[48+col]
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		z2 = int32(in[col]) * q[col]
		z3 = int32(in[32+col]) * q[32+col]
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2

		// Odd part.
		tmp0 = int32(in[56+col]) * q[56+col]
		tmp1 = int32(in[40+col]) * q[40+col]
		tmp2 = int32(in[24+col]) * q[24+col]
		tmp3 = int32(in[8+col]) * q[8+col]
		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602
		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 = z3*-fix1_961570560 + z5
		z4 = z4*-fix0_390180644 + z5
		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		const sh, rnd = constBits - pass1Bits, 1 << (constBits - pass1Bits - 1)
		ws[col] = (tmp10 + tmp3 + rnd) >> sh
		ws[56+col] = (tmp10 - tmp3 + rnd) >> sh
		ws[8+col] = (tmp11 + tmp2 + rnd) >> sh
		ws[48+col] = (tmp11 - tmp2 + rnd) >> sh
		ws[16+col] = (tmp12 + tmp1 + rnd) >> sh
		ws[40+col] = (tmp12 - tmp1 + rnd) >> sh
		ws[24+col] = (tmp13 + tmp0 + rnd) >> sh
		ws[32+col] = (tmp13 - tmp0 + rnd) >> sh
	}

	// Pass 2: rows, from the workspace to samples.
	for row := 0; row < 8; row++ {
		w := (*[8]int32)(ws[row*8 : row*8+8])
		out := dst[row*stride : row*stride+8 : row*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := clamp((w[0] + 1<<(pass1Bits+2)) >> (pass1Bits + 3))
			out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = v, v, v, v, v, v, v, v
			continue
		}
		z2 := w[2]
		z3 := w[6]
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		tmp0 := (w[0] + w[4]) << constBits
		tmp1 := (w[0] - w[4]) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2

		tmp0 = w[7]
		tmp1 = w[5]
		tmp2 = w[3]
		tmp3 = w[1]
		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602
		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 = z3*-fix1_961570560 + z5
		z4 = z4*-fix0_390180644 + z5
		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		const sh, rnd = constBits + pass1Bits + 3, 1 << (constBits + pass1Bits + 3 - 1)
		out[0] = clamp((tmp10 + tmp3 + rnd) >> sh)
		out[7] = clamp((tmp10 - tmp3 + rnd) >> sh)
		out[1] = clamp((tmp11 + tmp2 + rnd) >> sh)
		out[6] = clamp((tmp11 - tmp2 + rnd) >> sh)
		out[2] = clamp((tmp12 + tmp1 + rnd) >> sh)
		out[5] = clamp((tmp12 - tmp1 + rnd) >> sh)
		out[3] = clamp((tmp13 + tmp0 + rnd) >> sh)
		out[4] = clamp((tmp13 - tmp0 + rnd) >> sh)
	}
}

// idctDC is idctIslow for a block whose AC coefficients are all zero: both
// passes take their zero shortcuts, giving one value.
func idctDC(dc int16, q int32, dst []byte, stride int) {
	v := clamp((int32(dc)*q<<pass1Bits + 1<<(pass1Bits+2)) >> (pass1Bits + 3))
	_ = dst[7*stride+7]
	for row := 0; row < 8; row++ {
		out := dst[row*stride : row*stride+8 : row*stride+8]
		out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = v, v, v, v, v, v, v, v
	}
}

// idctIslow4 is idctIslow for a block whose coefficients outside the
// top-left 4×4 are zero (zigzag positions up to 9): the terms that are zero
// are left out, which changes nothing since every operation is exact.
func idctIslow4(in *[64]int16, q *[64]int32, dst []byte, stride int) {
	var ws [64]int32
	_ = dst[7*stride+7]
	for col := 0; col < 4; col++ {
		if in[8+col] == 0 && in[16+col] == 0 && in[24+col] == 0 {
			dc := int32(in[col]) * q[col] << pass1Bits
			ws[col], ws[8+col], ws[16+col], ws[24+col] = dc, dc, dc, dc
			ws[32+col], ws[40+col], ws[48+col], ws[56+col] = dc, dc, dc, dc
			continue
		}
		// Even part, rows 4 and 6 zero.
		z2 := int32(in[16+col]) * q[16+col]
		z1 := z2 * fix0_541196100
		tmp2 := z1
		tmp3 := z1 + z2*fix0_765366865
		tmp0 := int32(in[col]) * q[col] << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp0+tmp2, tmp0-tmp2

		// Odd part, rows 5 and 7 zero.
		o2 := int32(in[24+col]) * q[24+col] // row 3
		o3 := int32(in[8+col]) * q[8+col]   // row 1
		z5 := (o2 + o3) * fix1_175875602
		z1 = o3 * -fix0_899976223
		z2 = o2 * -fix2_562915447
		z3 := o2*-fix1_961570560 + z5
		z4 := o3*-fix0_390180644 + z5
		t0 := z1 + z3
		t1 := z2 + z4
		t2 := o2*fix3_072711026 + z2 + z3
		t3 := o3*fix1_501321110 + z1 + z4

		const sh, rnd = constBits - pass1Bits, 1 << (constBits - pass1Bits - 1)
		ws[col] = (tmp10 + t3 + rnd) >> sh
		ws[56+col] = (tmp10 - t3 + rnd) >> sh
		ws[8+col] = (tmp11 + t2 + rnd) >> sh
		ws[48+col] = (tmp11 - t2 + rnd) >> sh
		ws[16+col] = (tmp12 + t1 + rnd) >> sh
		ws[40+col] = (tmp12 - t1 + rnd) >> sh
		ws[24+col] = (tmp13 + t0 + rnd) >> sh
		ws[32+col] = (tmp13 - t0 + rnd) >> sh
	}
	// Pass 2: columns 4…7 of the workspace are zero.
	for row := 0; row < 8; row++ {
		w := (*[8]int32)(ws[row*8 : row*8+8])
		out := dst[row*stride : row*stride+8 : row*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 {
			v := clamp((w[0] + 1<<(pass1Bits+2)) >> (pass1Bits + 3))
			out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = v, v, v, v, v, v, v, v
			continue
		}
		z2 := w[2]
		z1 := z2 * fix0_541196100
		tmp2 := z1
		tmp3 := z1 + z2*fix0_765366865
		tmp0 := w[0] << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp0+tmp2, tmp0-tmp2

		o2, o3 := w[3], w[1]
		z5 := (o2 + o3) * fix1_175875602
		z1 = o3 * -fix0_899976223
		z2 = o2 * -fix2_562915447
		z3 := o2*-fix1_961570560 + z5
		z4 := o3*-fix0_390180644 + z5
		t0 := z1 + z3
		t1 := z2 + z4
		t2 := o2*fix3_072711026 + z2 + z3
		t3 := o3*fix1_501321110 + z1 + z4

		const sh, rnd = constBits + pass1Bits + 3, 1 << (constBits + pass1Bits + 3 - 1)
		out[0] = clamp((tmp10 + t3 + rnd) >> sh)
		out[7] = clamp((tmp10 - t3 + rnd) >> sh)
		out[1] = clamp((tmp11 + t2 + rnd) >> sh)
		out[6] = clamp((tmp11 - t2 + rnd) >> sh)
		out[2] = clamp((tmp12 + t1 + rnd) >> sh)
		out[5] = clamp((tmp12 - t1 + rnd) >> sh)
		out[3] = clamp((tmp13 + t0 + rnd) >> sh)
		out[4] = clamp((tmp13 - t0 + rnd) >> sh)
	}
}
