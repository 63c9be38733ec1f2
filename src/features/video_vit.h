// The vit:DIR video encoder: frames decoded with FFmpeg, run through a Hugging Face ViT checkpoint, patch
// embeddings averaged (paper Eq. 3).
#pragma once
#include <memory>
#include <string>

#include "features/video_encoder.h"

namespace spir {

// Loads dir (config.json, model.safetensors, optional preprocessor_config.json with image_mean / image_std /
// rescale_factor; defaults 0.5 / 0.5 / 1/255). encode() decodes `frames` uniformly spaced frames, scales each to
// image_size × image_size RGB (bilinear), normalises, runs the ViT and averages the last_hidden_state patch tokens
// ([CLS] excluded) over patches and frames; dim() is the hidden size. Throws spir::Error naming the file on an
// unreadable checkpoint.
std::unique_ptr<VideoEncoder> make_vit_video_encoder(const std::string& dir, int frames);

}  // namespace spir
