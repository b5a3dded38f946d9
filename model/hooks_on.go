//go:build !nohooks

package model

// hooksCompiled is false only in builds with -tags nohooks, which compile
// the hook branches out: the baseline the hooks' cost is measured against.
const hooksCompiled = true
