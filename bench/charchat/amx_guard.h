// bench/charchat/amx_guard.h — keeps ggml's AMX kernels out of both servers.
//
// On CPUs that report AMX, ggml multiplies Q8_0 weights with AMX tiles; on the 2-vCPU
// machines these benchmarks run on that path dies with SIGSEGV in ggml_backend_amx_mul_mat
// at the first decode, in llama-server and in `tokki serve` alike. DenyAmx() installs a
// seccomp filter on this process — inherited by every child it starts — that refuses the
// arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA) request with which ggml asks the kernel for
// AMX; ggml then prints "AMX is not ready to be used!" and uses its AVX-512 kernels. Both
// systems get the same treatment. `charchat --allow-amx` leaves AMX alone.
//
// Thread safety: call once from main before any other thread starts.
#pragma once

#include <string>

namespace tokki::bench {

// True when /proc/cpuinfo lists amx_int8.
bool CpuHasAmx();

// Installs the filter (see above); false and *error when the kernel refused it.
bool DenyAmx(std::string* error);

}  // namespace tokki::bench
