// The bert:DIR text encoder: a Hugging Face BERT checkpoint folder run in LibTorch (paper Eq. 4 text features).
#pragma once
#include <memory>
#include <string>

#include "features/text_encoder.h"

namespace spir {

// Loads dir (config.json, model.safetensors, vocab.txt, optional tokenizer_config.json). Each text becomes the
// masked mean of last_hidden_state over its tokens, [CLS] and [SEP] included; texts are truncated to opt.max_tokens
// and run opt.batch_size at a time without autograd; dim() is the hidden size; an empty text gives zeros.
// Throws spir::Error naming the file on an unreadable checkpoint.
std::unique_ptr<TextEncoder> make_bert_text_encoder(const std::string& dir, const TextEncoderOptions& opt);

}  // namespace spir
