//go:build nohooks

package model

const hooksCompiled = false
