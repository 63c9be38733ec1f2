#include "tensor/safetensors_torch.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace spir {

torch::ScalarType to_torch_dtype(SafeDType dtype) {
  switch (dtype) {
    case SafeDType::F32: return torch::kFloat32;
    case SafeDType::F16: return torch::kFloat16;
    case SafeDType::BF16: return torch::kBFloat16;
    case SafeDType::F64: return torch::kFloat64;
    case SafeDType::I64: return torch::kInt64;
    case SafeDType::I32: return torch::kInt32;
    case SafeDType::I16: return torch::kInt16;
    case SafeDType::I8: return torch::kInt8;
    case SafeDType::U8: return torch::kUInt8;
    case SafeDType::BOOL: return torch::kBool;
  }
  throw Error("safetensors: unknown dtype");
}

SafeDType to_safe_dtype(torch::ScalarType dtype, const std::string& what) {
  switch (dtype) {
    case torch::kFloat32: return SafeDType::F32;
    case torch::kFloat16: return SafeDType::F16;
    case torch::kBFloat16: return SafeDType::BF16;
    case torch::kFloat64: return SafeDType::F64;
    case torch::kInt64: return SafeDType::I64;
    case torch::kInt32: return SafeDType::I32;
    case torch::kInt16: return SafeDType::I16;
    case torch::kInt8: return SafeDType::I8;
    case torch::kUInt8: return SafeDType::U8;
    case torch::kBool: return SafeDType::BOOL;
    default: break;
  }
  throw Error(what + ": dtype " + std::string(c10::toString(dtype)) + " cannot be stored in safetensors");
}

torch::Tensor safetensors_tensor(const std::shared_ptr<const SafetensorsFile>& file, const std::string& name,
                                 bool to_float32) {
  const SafeTensorView& v = file->get(name);
  const torch::ScalarType dt = to_torch_dtype(v.dtype);
  const size_t esize = safe_dtype_size(v.dtype);
  torch::Tensor t;
  if (v.nbytes == 0) {
    t = torch::empty(v.shape, torch::TensorOptions().dtype(dt));
  } else if (reinterpret_cast<uintptr_t>(v.data) % esize != 0) {
    // Misaligned data (a writer that does not pad its header): copy into an aligned tensor.
    t = torch::empty(v.shape, torch::TensorOptions().dtype(dt));
    std::memcpy(t.data_ptr(), v.data, v.nbytes);
  } else {
    // Borrow the mapping; the deleter holds the file so the pages outlive every view of this tensor.
    std::shared_ptr<const SafetensorsFile> keep = file;
    t = torch::from_blob(const_cast<void*>(v.data), v.shape, [keep](void*) mutable { keep.reset(); },
                         torch::TensorOptions().dtype(dt));
  }
  if (to_float32 && dt != torch::kFloat32) {
    if (dt == torch::kBool) throw Error(file->path() + ": tensor '" + name + "': BOOL cannot be converted to float32");
    t = t.to(torch::kFloat32);
  }
  return t;
}

std::map<std::string, torch::Tensor> load_safetensors(const std::string& path, bool to_float32) {
  auto file = SafetensorsFile::open(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& name : file->names()) out.emplace(name, safetensors_tensor(file, name, to_float32));
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> keep;  // contiguous CPU copies, alive until written
  std::vector<SafeTensorView> views;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) throw Error(path + ": tensor '" + name + "': undefined");
    torch::Tensor c = tensor.detach().to(torch::kCPU).contiguous();
    SafeTensorView v;
    v.name = name;
    v.dtype = to_safe_dtype(c.scalar_type(), path + ": tensor '" + name + "'");
    v.shape = c.sizes().vec();
    v.data = c.data_ptr();
    v.nbytes = c.numel() * c.element_size();
    keep.push_back(c);
    views.push_back(std::move(v));
  }
  write_safetensors(path, views, metadata);
}

}  // namespace spir

namespace spir {

void load_module_weights(torch::nn::Module& module, const std::string& path, const std::string& prefix) {
  auto file = SafetensorsFile::open(path);
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters(/*recurse=*/true)) {
    const std::string& key = item.key();
    std::string stored = key;
    if (!file->contains(stored) && !prefix.empty() && file->contains(prefix + key)) stored = prefix + key;
    if (!file->contains(stored))
      throw Error(path + ": tensor '" + key + "'" + (prefix.empty() ? "" : " (or '" + prefix + key + "')") +
                  " is missing from the checkpoint");
    torch::Tensor src = safetensors_tensor(file, stored);
    torch::Tensor& dst = item.value();
    if (src.sizes() != dst.sizes())
      throw Error(path + ": tensor '" + stored + "': shape " + c10::str(src.sizes()) + " but the model expects " +
                  c10::str(dst.sizes()));
    dst.copy_(src.to(dst.scalar_type()));
  }
}

}  // namespace spir
