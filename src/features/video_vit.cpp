#include "features/video_vit.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "features/video_decode.h"
#include "features/vit.h"

namespace spir {
namespace {

// Reads a 3-vector (or scalar) field of preprocessor_config.json.
std::vector<float> read_triplet(const nlohmann::json& j, const std::string& path, const char* key, float def) {
  if (!j.contains(key) || j[key].is_null()) return {def, def, def};
  const auto& v = j[key];
  try {
    if (v.is_number()) return {v.get<float>(), v.get<float>(), v.get<float>()};
    if (v.is_array() && v.size() == 3) return {v[0].get<float>(), v[1].get<float>(), v[2].get<float>()};
  } catch (const std::exception&) {
  }
  throw Error(path + ": field '" + key + "': expected a number or 3 numbers");
}

class ViTVideoEncoder : public VideoEncoder {
 public:
  ViTVideoEncoder(const std::string& dir, int frames)
      : name_("vit:" + dir), model_(load_vit_model(dir)), frames_(frames) {
    if (frames_ < 1) throw Error("vit video encoder: frames must be at least 1, got " + std::to_string(frames));
    if (model_->options().num_channels != 3)
      throw Error(dir + "/config.json: field 'num_channels': video frames need 3, got " +
                  std::to_string(model_->options().num_channels));
    std::vector<float> mean = {0.5f, 0.5f, 0.5f}, std = {0.5f, 0.5f, 0.5f};
    float rescale = 1.0f / 255.0f;
    const std::string pre = dir + "/preprocessor_config.json";
    std::ifstream in(pre, std::ios::binary);
    if (in) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(in);
      } catch (const std::exception& e) {
        throw Error(pre + ": bad JSON: " + e.what());
      }
      mean = read_triplet(j, pre, "image_mean", 0.5f);
      std = read_triplet(j, pre, "image_std", 0.5f);
      rescale = read_triplet(j, pre, "rescale_factor", 1.0f / 255.0f)[0];
      if (j.value("do_normalize", true) == false) mean = {0, 0, 0}, std = {1, 1, 1};
    }
    for (float s : std)
      if (s == 0.0f) throw Error(pre + ": field 'image_std': zero");
    mean_ = torch::tensor(mean).view({1, 3, 1, 1});
    std_ = torch::tensor(std).view({1, 3, 1, 1});
    rescale_ = rescale;
  }

  std::string name() const override { return name_; }
  int dim() const override { return static_cast<int>(model_->options().hidden_size); }

  bool encode(const std::string& path, float* out) const override {
    const int64_t size = model_->options().image_size;
    DecodedVideo video;
    if (!decode_video_frames(path, {frames_, 0}, &video, nullptr)) return false;
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> frames;
    for (auto& f : video.frames)
      frames.push_back(torch::from_blob(f.data(), {video.frame_height, video.frame_width, 3}, torch::kUInt8));
    // [F, 3, h, w] → image_size × image_size, bilinear
    const torch::Tensor pixels = torch::nn::functional::interpolate(
        torch::stack(frames).permute({0, 3, 1, 2}).to(torch::kFloat32),
        torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{size, size}).mode(torch::kBilinear).align_corners(false));
    const torch::Tensor x = (pixels * rescale_ - mean_) / std_;
    const torch::Tensor hidden = model_->forward(x);  // [F, 1 + P, H]
    // Eq. 3: the mean of the patch tokens ([CLS] left out) over patches and frames.
    const torch::Tensor v =
        hidden.slice(1, 1).mean(std::vector<int64_t>{0, 1}).to(torch::kCPU, torch::kFloat32).contiguous();
    std::memcpy(out, v.data_ptr<float>(), sizeof(float) * dim());
    return true;
  }

 private:
  std::string name_;
  mutable ViTModel model_;  // forward is not const in LibTorch; encode() does not change the weights
  int frames_;
  torch::Tensor mean_, std_;
  float rescale_ = 1.0f / 255.0f;
};

}  // namespace

std::unique_ptr<VideoEncoder> make_vit_video_encoder(const std::string& dir, int frames) {
  return std::make_unique<ViTVideoEncoder>(dir, frames);
}

}  // namespace spir
