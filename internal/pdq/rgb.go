package pdq

// LumaFromRGB24 fills dst (grown as needed) with the luma of a packed RGB24
// raster of width×height pixels (3 bytes a pixel, rows of 3×width bytes), as
// the reference's fillFloatLumaFromRGB does for video frames: no reduction
// to 512 and no grey special case, only 0.299R + 0.587G + 0.114B in
// float32. It panics if rgb is shorter than 3×width×height.
func LumaFromRGB24(dst []float32, rgb []byte, width, height int) []float32 {
	n := width * height
	dst = grow(dst, n)
	rgb = rgb[:3*n]
	for i := range dst {
		p := rgb[3*i : 3*i+3 : 3*i+3]
		dst[i] = rgbLuma(p[0], p[1], p[2])
	}
	return dst
}
