#include "features/text_bert.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "features/bert.h"
#include "features/wordpiece.h"

namespace spir {
namespace {

class BertTextEncoder : public TextEncoder {
 public:
  BertTextEncoder(const std::string& dir, const TextEncoderOptions& opt)
      : name_("bert:" + dir),
        tokenizer_(WordPieceTokenizer::from_dir(dir)),
        model_(load_bert_model(dir)),
        batch_size_(std::max(1, opt.batch_size)),
        max_tokens_(static_cast<int>(std::min<int64_t>(opt.max_tokens, model_->options().max_position_embeddings))) {
    if (max_tokens_ < 2) throw Error(dir + ": max_tokens " + std::to_string(opt.max_tokens) + " is below 2");
  }

  std::string name() const override { return name_; }
  int dim() const override { return static_cast<int>(model_->options().hidden_size); }

  void encode(const std::vector<std::string>& texts, float* out) const override {
    torch::NoGradGuard no_grad;
    const int64_t d = dim();
    for (size_t begin = 0; begin < texts.size(); begin += batch_size_) {
      const size_t end = std::min(texts.size(), begin + static_cast<size_t>(batch_size_));
      std::vector<std::string> batch;
      std::vector<size_t> rows;  // output row of each non-empty text
      for (size_t i = begin; i < end; ++i) {
        if (texts[i].empty()) {
          std::fill(out + i * d, out + (i + 1) * d, 0.0f);
        } else {
          batch.push_back(texts[i]);
          rows.push_back(i);
        }
      }
      if (batch.empty()) continue;
      const WordPieceBatch enc = tokenizer_.encode_batch(batch, max_tokens_);
      auto as_tensor = [&](const std::vector<int64_t>& v) {
        return torch::from_blob(const_cast<int64_t*>(v.data()), {enc.rows, enc.cols}, torch::kInt64).clone();
      };
      const torch::Tensor mask = as_tensor(enc.attention_mask);
      const torch::Tensor hidden = model_->forward(as_tensor(enc.input_ids), mask, as_tensor(enc.token_type_ids));
      const torch::Tensor pooled = masked_mean_pool(hidden, mask).to(torch::kCPU, torch::kFloat32).contiguous();
      const float* p = pooled.data_ptr<float>();
      for (size_t r = 0; r < rows.size(); ++r) std::memcpy(out + rows[r] * d, p + r * d, sizeof(float) * d);
    }
  }

 private:
  std::string name_;
  WordPieceTokenizer tokenizer_;
  mutable BertModel model_;  // forward is not const in LibTorch; encode() does not change the weights
  int batch_size_;
  int max_tokens_;
};

}  // namespace

std::unique_ptr<TextEncoder> make_bert_text_encoder(const std::string& dir, const TextEncoderOptions& opt) {
  return std::make_unique<BertTextEncoder>(dir, opt);
}

}  // namespace spir
