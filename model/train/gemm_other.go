//go:build noasm || !amd64

package train

const haveFMA = false

func kern4x16(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k int) {
	panic("train: kern4x16 without assembly")
}
