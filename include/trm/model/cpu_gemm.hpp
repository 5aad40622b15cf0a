// Matrix products of the model's hot path. On CPU float32 with oneDNN available (TRM_WITH_DNNL)
// they call dnnl_sgemm, whose AVX-512 kernels are 1.3-1.6x faster than OpenBLAS's on the
// model's skinny shapes (K = hidden or positions, 97..512; docs/BENCHMARKS.md); everywhere else
// (CUDA, other dtypes, strided views) they are torch::mm.
#pragma once

#include <torch/torch.h>

namespace trm {

// a [m, k] @ b [k, n]; each operand contiguous or the transpose of a contiguous matrix.
torch::Tensor gemm(const torch::Tensor& a, const torch::Tensor& b);
// The same into out [m, n] (a view with unit column stride is fine).
void gemm_out(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b);

// Whether gemm uses oneDNN for CPU float32 (reported by the benchmarks).
bool gemm_uses_dnnl();

}  // namespace trm
