// Safetensors ↔ torch::Tensor: borrowed (zero-copy) or converted loads, and saving a map of tensors.
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "tensor/safetensors.h"

namespace spir {

// The torch dtype of a safetensors dtype, and back (throws spir::Error naming `what` for an unsupported dtype).
torch::ScalarType to_torch_dtype(SafeDType dtype);
SafeDType to_safe_dtype(torch::ScalarType dtype, const std::string& what);

// The named tensor of an open file. Without conversion (or when it is already F32) the tensor borrows the mapping:
// no copy, and its deleter keeps the file mapped. to_float32 converts floating and integer dtypes to a new float32
// tensor. Throws spir::Error naming the file and tensor.
torch::Tensor safetensors_tensor(const std::shared_ptr<const SafetensorsFile>& file, const std::string& name,
                                 bool to_float32 = false);

// Every tensor of the file at path, by name (borrowed as above unless converted).
std::map<std::string, torch::Tensor> load_safetensors(const std::string& path, bool to_float32 = false);

// Writes tensors (any device, made contiguous on the CPU) and metadata to path atomically.
void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace spir

namespace spir {

// Copies a safetensors checkpoint into module's parameters by name (module.named_parameters() keys, looked up as
// "NAME" or prefix + "NAME"), converting to each parameter's dtype. Extra tensors in the file are ignored; a missing
// tensor or a shape mismatch throws spir::Error naming the file and the tensor.
void load_module_weights(torch::nn::Module& module, const std::string& path, const std::string& prefix = "");

}  // namespace spir
