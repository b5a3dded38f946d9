// Package metal is where bitrepl computes. It holds no code of its own, only
// two backends, each in its own package:
//
//   - metal/cpu: the CPU kernels and the weight layouts every backend reads
//     (ternary TQ1_0, TQ2_0, I2_S and TQ1_S, F32, F16, BF16, Q8_0, Q4_0, Q6_K),
//     with pure-Go references and AVX2, AVX-512 VNNI and NEON assembly.
//     `--device cpu` runs here.
//   - metal/gpu: the Apple-GPU backend through Metal (`--device metal`), whose
//     shaders are checked against metal/cpu.
//
// The name of the directory is the project's layout; the package names say
// which device a kernel runs on, so `--device metal` and package gpu mean the
// same thing and the CPU kernels are never called "metal" in code.
//
// It imports nothing and nothing imports it; import metal/cpu or metal/gpu.
package metal
